/**
 * The second DAG of a pipeline's file: `<id>__backfill`, a range of report days in one triggered run
 * (`gen airflow backfill <id> --from D --to D --one-pass`, or the UI's trigger form). It waits for
 * the source like the daily DAG, extracts every day of the range from one snapshot, then builds,
 * gates and publishes the days in order (dagspec_runtime's ExtractDaysOperator, BuildDaysOperator).
 * This builds its view model; dag.py.hbs lays it out after the daily DAG.
 */
import type { PipelineIR } from "../../ir/types.ts";
import { backfillDagId, fillLayout } from "../../ir/names.ts";
import { pyDocBody, pyLiteral, pyStr, pyWrappedStr } from "../python.ts";
import { wrapText } from "../text.ts";
import { warehouseTarget } from "../targets/select.ts";
import { operatorTask, sensorCode } from "./task-code.ts";

/** The backfill DAG's operators (`dagspec_runtime.operators`); both read the range from the run's params. */
export const BACKFILL_OPERATORS = { extract: "ExtractDaysOperator", build: "BuildDaysOperator" } as const;

/** The Jinja call the sensor reads its window from: the `dagspec_range` macro of dag.py.hbs. */
const RANGE_WINDOW = "dagspec_range(params)";

/** What a backfilled day's report does, as the spec's `report.emailBackfills` says. */
function reportFate(ir: PipelineIR): string {
  const folder = `\`${fillLayout(ir.names.reportFolder, { pipeline: ir.id, ds: "<day>" })}/\``;
  return ir.report.emailBackfills
    ? `archived under ${folder} and emailed, as for a daily run (the spec's \`report.emailBackfills\`)`
    : `archived under ${folder}, not emailed (the spec's \`report.emailBackfills\`, as in a backfill)`;
}

/** The steps of one day in `build_days`, in order. */
function daySteps(ir: PipelineIR): string[] {
  const gates = ir.tasks.flatMap((t) => (t.kind === "dbt_build" ? t.gates : []));
  const marts = ir.tasks.flatMap((t) => (t.kind === "publish_tables" ? t.models : []));
  return [
    ...(ir.tasks.some((t) => t.kind === "load_raw") ? [`loads the day's lake partitions into \`${warehouseTarget(ir).rawSchema(ir)}\``] : []),
    `one \`dbt build\` of the audit schema on the warm dbt server, gated by ${gates.length === 1 ? "the daily DAG's one error-severity test" : `the daily DAG's ${gates.length} error-severity tests`}`,
    `publishes the audited marts (${marts.join(", ") || "none"})`,
    `the report, ${reportFate(ir)}`,
  ];
}

function backfillDocMd(ir: PipelineIR): string {
  return [
    `# ${backfillDagId(ir.id)}`,
    "",
    `Reprocesses a range of report days of \`${ir.id}\` in one run, where a backfill of the daily DAG makes one run per day. Trigger it with \`gen airflow backfill ${ir.id} --from <first day> --to <last day> --one-pass\`, or from the trigger form (\`first_day\`, \`last_day\`: local calendar days in ${ir.schedule.timezone}).`,
    "",
    "## What a run does",
    "1. `wait_for_source`: the daily readiness query, for the range (through the end of its last day).",
    "2. `extract_days`: one consistent snapshot of the source; the days' extracts run from it in parallel into the lake.",
    `3. \`build_days\`: each day in order: ${daySteps(ir).join("; ")}. A day whose gate fails publishes nothing and the days after it go on; the run fails at the end naming the failed days.`,
    "",
    `One run at a time. No SLA: the deadline alerts belong to the daily DAG \`${ir.id}\`, whose docs show the pipeline's lineage.`,
    "",
    "## Source",
    `Compiled by dagspec from \`${ir.specFile}\` (spec hash \`${ir.specHash}\`). Edit the spec, not this file.`,
  ].join("\n");
}

/** `first_day` and `last_day`, the range a run reprocesses: the trigger form's fields. */
function params(ir: PipelineIR): string {
  const param = (name: string, title: string, description: string) =>
    [
      `        ${pyStr(name)}: Param(`,
      `            type="string",`,
      `            format="date",`,
      `            title=${pyStr(title)},`,
      `            description=${pyWrappedStr(description, 12, "description=".length)},`,
      `        ),`,
    ].join("\n");
  const day = `YYYY-MM-DD, a local calendar day in ${ir.schedule.timezone}`;
  return [
    "{",
    param("first_day", "First report day", `The first report day to reprocess (${day}).`),
    param("last_day", "Last report day", `The last report day to reprocess, inclusive (${day}); on or after the first.`),
    "    }",
  ].join("\n");
}

export function backfillDag(ir: PipelineIR) {
  const sensor = ir.tasks.find((t) => t.kind === "wait_for_source");
  if (!sensor) throw new Error(`pipeline ${ir.id} has no wait_for_source task`);
  const timeout = ir.source.timeoutSeconds / 60;
  const dagId = backfillDagId(ir.id);
  return {
    dagId: pyStr(dagId),
    description: pyWrappedStr(`${ir.id}: reprocess a range of report days in one run (gen airflow backfill --one-pass).`, 4, "description=".length),
    docMd: wrapText(pyDocBody(backfillDocMd(ir)), 100),
    tags: pyLiteral([...new Set([...ir.tags, "backfill"])].sort(), 4, "tags=".length, 1),
    params: params(ir),
    sensor: sensorCode(
      ir,
      sensor.id,
      RANGE_WINDOW,
      `Waits (reschedule mode, holding no worker slot) until the readiness query on connection \`${ir.source.connId}\` returns true for the range: \`report_day\` is its last day, \`day_start\` the start of its first day, \`day_end\` the end of its last; fails the run after ${timeout} minutes.`,
    ),
    extract: operatorTask(
      "extract_days",
      BACKFILL_OPERATORS.extract,
      `Copies every day of the range from one consistent snapshot of \`${ir.source.connId}\` into the lake as Parquet, the days' extracts in parallel, each table as the daily \`extract\` takes it; atomically per partition.`,
    ),
    build: operatorTask(
      "build_days",
      BACKFILL_OPERATORS.build,
      `Each day of the range in order: ${daySteps(ir).join("; ")}. A day whose gate fails publishes nothing and the next days go on; the task fails at the end naming the failed days.`,
    ),
    chain: `    ${sensor.id} >> extract_days >> build_days`,
  };
}
