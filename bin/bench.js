#!/usr/bin/env node
// `npm run bench`: compiler timings, then the runtime's extract throughput (pytest-free script).
import { createJiti } from "jiti";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
const { benchCompile } = await jiti.import("../test/bench/compile.bench.ts");
console.log("compiler (median of 5 runs)");
for (const line of await benchCompile()) console.log(`  ${line}`);

const extractBench = `${root}test/python/bench_extract.py`;
if (existsSync(extractBench)) {
  spawnSync("bash", [`${root}scripts/setup-python.sh`], { stdio: "inherit" });
  spawnSync("bash", [`${root}scripts/ensure-postgres.sh`], { stdio: "inherit" });
  console.log("\nruntime extract (Postgres -> Parquet)");
  const r = spawnSync(`${root}.venv/bin/python`, [extractBench, ...process.argv.slice(2)], { stdio: "inherit", cwd: root });
  process.exitCode = r.status ?? 1;
}
