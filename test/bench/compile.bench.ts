/**
 * `npm run bench`, compiler part: wall time of build() (type check included, and without it) over
 * the repository's specs and every golden case. Prints a median of several runs; numbers are
 * for comparison between commits on the same machine, never asserted.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../../src/build/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

export async function benchCompile(runs = 5): Promise<string[]> {
  const roots = [ROOT, ...readdirSync(join(ROOT, "test/cases")).sort().map((c) => join(ROOT, "test/cases", c))];
  const lines: string[] = [];
  for (const root of roots) {
    const label = root === ROOT ? "specs/ (repo)" : `test/cases/${root.split("/").pop()}`;
    const full = await time(() => build({ root }), runs);
    const noTypes = await time(() => build({ root, skipTypecheck: true }), runs);
    lines.push(`${label.padEnd(34)} build ${full.toFixed(0).padStart(6)} ms   without type check ${noTypes.toFixed(0).padStart(6)} ms`);
  }
  return lines;
}
