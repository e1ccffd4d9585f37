/**
 * Property-based fuzzing of the whole compiler: fast-check mutates every clean seed spec (golden
 * cases and specs/) with hostile values and checks the invariant in oracle.ts on each. FUZZ_RUNS sets
 * the number of specs (default 600); FUZZ_SEED replays a run. A failure prints the shrunk spec:
 * keep it as a golden case under test/cases/ once fixed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { loadSeeds, type Seed } from "./corpus.ts";
import { applyMutations, mutation } from "./mutate.ts";
import { judge } from "./oracle.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe("fuzzing the compiler", () => {
  let seeds: Seed[] = [];
  beforeAll(async () => {
    seeds = await loadSeeds();
  });

  it("every seed builds cleanly (the fuzzer starts from valid specs)", async () => {
    expect(seeds.length).toBeGreaterThanOrEqual(4);
    for (const s of seeds) expect((await judge(s.spec)).kind, s.name).toBe("files");
  });

  it(`${RUNS} mutated specs each end in diagnostics or clean files, never a crash`, { timeout: 600_000 }, async () => {
    const tally = { diagnostics: 0, files: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1000 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (pick, mutations) => {
        const seed = seeds[pick % seeds.length] as Seed;
        const outcome = await judge(applyMutations(seed.spec, mutations));
        tally[outcome.kind]++;
        if (outcome.violations.length) throw new Error(`seed ${seed.name}:\n${outcome.violations.join("\n")}`);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: 540_000 },
    );
    // Both outcomes must actually be exercised, or the property says little.
    expect(tally.diagnostics).toBeGreaterThan(RUNS / 10);
    expect(tally.files).toBeGreaterThan(RUNS / 50);
  });
});
