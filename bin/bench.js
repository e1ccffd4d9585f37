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

// Parse cost of each generated DAG file after Airflow's own imports: what the dag-processor pays
// every min_file_process_interval and a worker before every task.
spawnSync("bash", [`${root}scripts/setup-python.sh`], { stdio: "inherit" });
const parseBench = `
import glob, importlib.util, statistics, sys, time
sys.path.insert(0, "airflow/plugins")
import airflow.sdk, airflow.providers.common.sql.sensors.sql  # Airflow's own imports, paid once
for path in sorted(glob.glob("generated/dags/*.py")):
    samples = []
    for _ in range(20):
        spec = importlib.util.spec_from_file_location("bench_dag", path)
        module = importlib.util.module_from_spec(spec)
        t = time.perf_counter(); spec.loader.exec_module(module); samples.append(time.perf_counter() - t)
    print(f"  {path:<50} parse {statistics.median(samples) * 1000:7.1f} ms (median of 20)")
`;
console.log("\ngenerated DAG files");
spawnSync(`${root}.venv/bin/python`, ["-c", parseBench], { stdio: "inherit", cwd: root });

const extractBench = `${root}test/python/bench_extract.py`;
if (existsSync(extractBench)) {
  spawnSync("bash", [`${root}scripts/setup-python.sh`], { stdio: "inherit" });
  spawnSync("bash", [`${root}scripts/ensure-postgres.sh`], { stdio: "inherit" });
  console.log("\nruntime extract (Postgres -> Parquet)");
  const r = spawnSync(`${root}.venv/bin/python`, [extractBench, ...process.argv.slice(2)], { stdio: "inherit", cwd: root });
  process.exitCode = r.status ?? 1;
}
