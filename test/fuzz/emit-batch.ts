/**
 * Writes a batch of fuzzed specs that built cleanly, each with its generated tree, for the
 * consumer checks in test/python/test_fuzz_consumers.py (Airflow's DagBag, ruff, dbt). The same
 * generator and oracle as fuzz.test.ts; fast-check's seed makes a batch reproducible.
 *
 *   node test/fuzz/emit-batch.mjs <out-dir> <count> [seed]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { loadSeeds, specSource } from "./corpus.ts";
import { applyMutations, mutation } from "./mutate.ts";
import { judge } from "./oracle.ts";

export async function emitBatch(outDir: string, count: number, seed: number): Promise<{ written: number; tried: number }> {
  const seeds = await loadSeeds();
  const arb = fc.tuple(fc.nat({ max: 1000 }), fc.array(mutation, { minLength: 1, maxLength: 2 }));
  let written = 0;
  let tried = 0;
  // Clean builds are a minority of mutants; sample in rounds until the batch is full.
  for (let round = 0; written < count && round < 50; round++) {
    for (const [pick, mutations] of fc.sample(arb, { seed: seed + round, numRuns: 100 })) {
      if (written >= count) break;
      tried++;
      const base = seeds[pick % seeds.length]!;
      const spec = applyMutations(base.spec, mutations);
      const outcome = await judge(spec);
      if (outcome.violations.length) throw new Error(`oracle violation (seed ${base.name}): ${outcome.violations.join("; ")}`);
      if (outcome.kind !== "files") continue;
      const dir = join(outDir, String(written).padStart(3, "0"));
      for (const [path, text] of outcome.files) {
        mkdirSync(dirname(join(dir, "generated", path)), { recursive: true });
        writeFileSync(join(dir, "generated", path), text);
      }
      mkdirSync(join(dir, "specs"), { recursive: true });
      writeFileSync(join(dir, "specs/fuzz.pipeline.ts"), specSource(spec));
      writeFileSync(join(dir, "mutation.json"), `${JSON.stringify({ seed: base.name, mutations }, null, 2)}\n`);
      written++;
    }
  }
  return { written, tried };
}
