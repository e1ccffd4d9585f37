/**
 * `gen airflow backfill <pipeline_id> --from DAY --to DAY [--reprocess | --one-pass] [--print]`:
 * reprocess a range of report days in the local stack.
 *
 * By default, a backfill of the daily DAG: one run per day. Users think in report days; Airflow's
 * backfill takes logical dates, and a bare date there means midnight UTC (which misses a 06:00 New
 * York run). This turns report days into the exact scheduled starts (spec timezone, cron time, report
 * lag) and passes the spec's max_active_runs as the backfill's parallelism (Airflow's own default is
 * 10).
 *
 * With --one-pass, one run of the pipeline's backfill DAG `<id>__backfill` (emit/airflow/backfill-dag.ts)
 * with the range as its params: every day extracted from one snapshot, then built and gated in order.
 */
import { build } from "../build/build.ts";
import { renderText } from "../diagnostics/render.ts";
import { hasErrors } from "../diagnostics/diagnostic.ts";
import { backfillDagId } from "../ir/names.ts";
import type { ScheduleIR } from "../ir/types.ts";
import { addDays, localToUtc, offsetMinutes } from "../time/zone.ts";
import type { Io } from "./io.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** ISO-8601 with the zone's offset, e.g. 2026-11-24T06:00:00-05:00: the run that reports on `day`. */
export function logicalDateFor(schedule: Pick<ScheduleIR, "timezone" | "reportLagDays" | "startMinutes">, day: string): string {
  const startDay = addDays(day, schedule.reportLagDays);
  const minutes = schedule.startMinutes[0] ?? 0;
  const utc = localToUtc(startDay, minutes, schedule.timezone);
  const offset = offsetMinutes(utc, schedule.timezone);
  const local = new Date(utc + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

export function backfillArgs(
  pipeline: { id: string; schedule: Pick<ScheduleIR, "timezone" | "reportLagDays" | "startMinutes" | "maxActiveRuns"> },
  from: string,
  to: string,
  reprocess: boolean,
): string[] {
  return [
    "backfill",
    "create",
    "--dag-id",
    pipeline.id,
    "--from-date",
    logicalDateFor(pipeline.schedule, from),
    "--to-date",
    logicalDateFor(pipeline.schedule, to),
    "--max-active-runs",
    String(pipeline.schedule.maxActiveRuns),
    ...(reprocess ? ["--reprocess-behavior", "completed"] : []),
  ];
}

/** `airflow dags trigger` of the pipeline's backfill DAG, the range as the run's params. */
export function onePassArgs(pipeline: { id: string }, from: string, to: string): string[] {
  return ["dags", "trigger", backfillDagId(pipeline.id), "--conf", JSON.stringify({ first_day: from, last_day: to })];
}

/** The command as a shell would take it: an argument with other characters is single-quoted. */
const shellWords = (args: readonly string[]) => args.map((a) => (/^[\w.:+=@\/-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");

const USAGE = "usage: gen airflow backfill <pipeline_id> --from YYYY-MM-DD --to YYYY-MM-DD [--reprocess | --one-pass] [--print]";

export async function runBackfill(
  argv: readonly string[],
  io: Io,
  runStack: (args: readonly string[]) => Promise<number>,
): Promise<number> {
  const [id, ...rest] = argv;
  let from = "";
  let to = "";
  let reprocess = false;
  let onePass = false;
  let printOnly = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--from") from = rest[++i] ?? "";
    else if (a === "--to") to = rest[++i] ?? "";
    else if (a === "--reprocess") reprocess = true;
    else if (a === "--one-pass") onePass = true;
    else if (a === "--print") printOnly = true;
    else from = "!";
  }
  if (!id || !DAY.test(from) || !DAY.test(to) || from > to) {
    io.stderr(`gen: error DS2001: ${USAGE}\n`);
    return 2;
  }
  if (reprocess && onePass) {
    io.stderr(`gen: error DS2001: --reprocess is for a backfill of the daily DAG; --one-pass reprocesses every day of the range\n${USAGE}\n`);
    return 2;
  }
  const result = await build({ root: io.cwd, skipTypecheck: true });
  if (hasErrors(result.diagnostics)) {
    io.stderr(renderText(result.diagnostics));
    return 1;
  }
  const pipeline = result.pipelines.find((p) => p.id === id);
  if (!pipeline) {
    io.stderr(`gen: error DS2001: no pipeline '${id}' in specs/ (known: ${result.pipelines.map((p) => p.id).join(", ")})\n`);
    return 2;
  }
  const args = onePass ? onePassArgs(pipeline, from, to) : backfillArgs(pipeline, from, to, reprocess);
  io.stdout(`report days ${from}..${to} -> airflow ${shellWords(args)}\n`);
  return printOnly ? 0 : runStack(["cli", ...args]);
}
