#!/usr/bin/env node
// `npm run bench [-- --sizes 1000000 5000000 --reps 5 --only extract gen dbt backfill --fresh]`: the side-by-side
// benchmarks of test/bench/run.py (extract vs psql \copy, pandas and ADBC; gen build for 1 and 50
// pipelines; the dbt build of a demo-sized day; a 30-day backfill in a local stack, today's way against
// the one-pass backfill DAG), written to test-artifacts/bench/, then the parse
// time of each generated DAG file.
// On a shared machine run it as `flock /tmp/dagspec-heavy.lock npm run bench`.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
for (const script of ["setup-python.sh", "ensure-postgres.sh"]) {
  const r = spawnSync("bash", [`${root}scripts/${script}`], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const bench = spawnSync(`${root}.venv/bin/python`, [`${root}test/bench/run.py`, ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: root,
});
if (bench.status !== 0) process.exit(bench.status ?? 1);

// Parse cost of each generated DAG file after Airflow's own imports: what the dag-processor pays
// every min_file_process_interval and a worker before every task.
const parseBench = `
import glob, importlib.util, statistics, sys, time
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
const parse = spawnSync(`${root}.venv/bin/python`, ["-c", parseBench], { stdio: "inherit", cwd: root });
process.exitCode = parse.status ?? 1;
