/**
 * `gen airflow up|down|status|cli ...`: the native local Airflow stack. A thin shell over the local
 * environment tool (`python -m dagspec_local`, airflow/local/dagspec_local), which does the work and
 * documents its settings; its output is passed through as it comes, and its exit code is ours.
 */
import { delimiter } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Io } from "./io.ts";
import { runBackfill } from "./airflow-backfill.ts";
import { DOCKER_USAGE, runAirflowDocker } from "./airflow-docker.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LOCAL = `${ROOT}airflow/local`;
const PYTHON = `${ROOT}.venv/bin/python`;
const SETUP_PYTHON = `${ROOT}scripts/setup-python.sh`;

const USAGE = `usage: gen airflow up|down|status|cli <airflow args>

  gen airflow up       start api-server, scheduler, dag-processor, triggerer (LocalExecutor) with the
                       generated DAGs, dagspec_runtime and the demo connections; prints the UI and login
  gen airflow down     stop everything \`up\` started
  gen airflow status   what runs, the UI address and login, where mail, pages and logs go
  gen airflow cli ...  the airflow command against the stack, e.g. gen airflow cli dags list
  gen airflow backfill <pipeline_id> --from DAY --to DAY [--reprocess] [--print]
                       reprocess report days: exact logical dates, the spec's max_active_runs
  gen airflow backfill <pipeline_id> --from DAY --to DAY --one-pass [--print]
                       the same days in one run of <pipeline_id>__backfill: one snapshot, then
                       each day built and gated in order

With --docker, the same commands drive the dockerised Airflow (CeleryExecutor workers):
${DOCKER_USAGE.replace(/^usage: .*\n\n/, "")}`;

export async function runAirflowStack(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes("--docker") && ["up", "down", "status", "cli"].includes(command)) return runAirflowDocker(command, rest, io);
  if (command === "backfill") return runBackfill(rest, io, (args) => runLocalEnv(args, io));
  if (!["up", "down", "status", "cli"].includes(command) || (command !== "cli" && rest.length > 0)) {
    io.stderr(`gen: error DS2001: unknown airflow command ${argv.join(" ")}\n${USAGE}`);
    return 2;
  }
  return runLocalEnv([command, ...rest], io);
}

/** `python -m dagspec_local <args>` from the repository's venv (installed first if missing or stale). */
async function runLocalEnv(args: readonly string[], io: Io): Promise<number> {
  const setup = await pipe(execa("bash", [SETUP_PYTHON], { reject: false, buffer: false }), io);
  if (setup !== 0) return setup;
  const pythonPath = [LOCAL, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const child = execa(PYTHON, ["-m", "dagspec_local", ...args], {
    cwd: io.cwd,
    env: { PYTHONPATH: pythonPath },
    reject: false,
    buffer: false,
    stdin: "inherit",
  });
  return pipe(child, io);
}

async function pipe(child: ReturnType<typeof execa>, io: Io): Promise<number> {
  child.stdout?.on("data", (chunk: Buffer) => io.stdout(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => io.stderr(chunk.toString()));
  const result = await child;
  return result.exitCode ?? 1;
}
