/**
 * Python source for each task kind. The switch is exhaustive: a new TaskIR kind fails to compile
 * here until it has an emitter.
 */
import type { PipelineIR, TaskIR } from "../../ir/types.ts";
import { warehouseTarget } from "../targets/select.ts";
import { pyDocBody, pyLiteral, pyStr } from "../python.ts";
import { wrapText } from "../text.ts";

/** How the extract takes a table, as the task's docs say it. */
const TAKEN: Record<PipelineIR["source"]["tables"][number]["mode"], (cursor: string | null) => string> = {
  incremental: (c) => `rows of the report day by \`${c}\``,
  snapshot: () => "full snapshot",
  history: (c) => `rows changed since the report day began, by \`${c}\`, merged into a history`,
};

function taskDoc(ir: PipelineIR, task: TaskIR): string {
  switch (task.kind) {
    case "wait_for_source":
      return `Waits (reschedule mode, holding no worker slot) until the readiness query on connection \`${ir.source.connId}\` returns true for the report day; fails the run after ${ir.source.timeoutSeconds / 60} minutes.`;
    case "extract":
      return `Copies ${ir.source.tables.map((t) => `\`${t.schema}.${t.name}\` (${TAKEN[t.mode](t.cursorColumn)})`).join(", ")} from one consistent snapshot into the lake as Parquet, atomically per partition.`;
    case "load_raw":
      return `Loads the report day's lake partitions into the warehouse schema \`${warehouseTarget(ir).rawSchema(ir)}\`.`;
    case "dbt_build":
      return `One \`dbt build\` of the audit schema: models and tests in graph order. Blocking gates (error severity): ${task.gates.length ? task.gates.join("; ") : "none"}. Any failure stops the run before anything is published.`;
    case "publish_tables":
      return `Publishes the audited marts (${task.models.join(", ") || "none"}) from the audit schema in one transaction: readers never see unaudited rows.`;
    case "publish_report":
      return `Emails the executive report (${ir.report.kpis.map((k) => k.label).join(", ")}) to ${ir.report.recipients.length} recipient(s) and archives it in the lake; a day already delivered is not emailed again${ir.report.corrections === "send" ? " unless a re-run changes its numbers (then once more, marked Corrected)" : "; a re-run that changes its numbers alerts the engineers"}.`;
    default: {
      const never: never = task;
      throw new Error(`no emitter for task ${JSON.stringify(never)}`);
    }
  }
}

/** Code is emitted at the indentation of the `with DAG(...)` body. */
const BODY = "    ";

/**
 * A docstring whose text starts on the opening line. Airflow shows it as the task's doc_md without
 * dedenting it, and Markdown reads indented lines as code unless they continue a paragraph that
 * starts at the margin.
 */
function docString(doc: string, indent: string, open = '"""'): string[] {
  const lines = wrapText(pyDocBody(doc), 100 - indent.length - 4).split("\n");
  // ruff format puts a one-line docstring on one line with its quotes.
  if (open === '"""' && lines.length === 1) return [`${indent}"""${lines[0]}"""`];
  return [`${indent}${open}${lines[0]}`, ...lines.slice(1).map((l) => `${indent}${l}`), `${indent}"""`];
}

/** The dagspec_runtime operator of each step (`dagspec_runtime.operators`). */
export const OPERATORS = {
  extract: "ExtractOperator",
  load_raw: "LoadRawOperator",
  dbt_build: "DbtBuildOperator",
  publish_tables: "PublishTablesOperator",
  publish_report: "PublishReportOperator",
} as const satisfies Record<Exclude<TaskIR["kind"], "wait_for_source">, string>;

/** The operators a pipeline's tasks use, sorted as ruff's isort sorts them. */
export function operatorImports(tasks: readonly TaskIR[]): string[] {
  return tasks.flatMap((t) => (t.kind === "wait_for_source" ? [] : [OPERATORS[t.kind]])).sort();
}

/**
 * A dagspec operator bound to the compiled pipeline; its day is the operator's default template (the
 * daily DAG's `dagspec_window` macro, the backfill DAG's range params), and `doc_md` is what Airflow
 * shows as the task's docs.
 */
export function operatorTask(id: string, operator: string, doc: string): string {
  return [
    `${id} = ${operator}(`,
    `    task_id=${pyStr(id)},`,
    `    pipeline=PIPELINE,`,
    ...docString(doc, "    ", 'doc_md="""').slice(0, -1),
    `    """,`,
    `)`,
  ]
    .map((l) => (l.startsWith("        ") ? l : BODY + l))
    .join("\n");
}

/**
 * The readiness sensor. `window` is the Jinja call that gives the run's window (`report_day`,
 * `day_start`, `day_end`): the daily DAG's `dagspec_window(logical_date)`, the backfill DAG's
 * `dagspec_range(params)` (see dag.py.hbs); everything else is the spec's.
 */
export function sensorCode(ir: PipelineIR, id: string, window: string, doc: string): string {
  const param = (k: string) => `{{ ${window}[${pyStr(k).replace(/"/g, "'")}] }}`;
  const params = pyLiteral({ report_day: param("report_day"), day_start: param("day_start"), day_end: param("day_end") }, 8, "parameters=".length, 1);
  const sql = pyDocBody(ir.source.readinessSql)
    .split("\n")
    .map((l) => (l ? `        ${l}` : l));
  return [
    `${id} = SqlSensor(`,
    `    task_id=${pyStr(id)},`,
    `    conn_id=${pyStr(ir.source.connId)},`,
    `    sql="""`,
    ...sql,
    `    """,`,
    `    parameters=${params},`,
    `    mode="reschedule",`,
    `    poke_interval=${ir.source.pokeIntervalSeconds},`,
    `    timeout=${ir.source.timeoutSeconds},`,
    ...docString(doc, "    ", 'doc_md="""').slice(0, -1),
    `    """,`,
    `)`,
  ]
    .map((l) => (l.startsWith("        ") ? l : BODY + l))
    .join("\n");
}

export function taskCode(ir: PipelineIR, task: TaskIR): string {
  const doc = taskDoc(ir, task);
  switch (task.kind) {
    case "wait_for_source":
      return sensorCode(ir, task.id, "dagspec_window(logical_date)", doc);
    case "extract":
    case "load_raw":
    case "dbt_build":
    case "publish_tables":
    case "publish_report":
      return operatorTask(task.id, OPERATORS[task.kind], doc);
    default: {
      const never: never = task;
      throw new Error(`no emitter for task ${JSON.stringify(never)}`);
    }
  }
}

/** `a >> b >> c` for a chain; explicit edges otherwise. */
export function dependencyCode(tasks: readonly TaskIR[]): string {
  const linear = tasks.every((t, i) => (i === 0 ? t.upstream.length === 0 : t.upstream.length === 1 && t.upstream[0] === tasks[i - 1]?.id));
  if (linear) return `    ${tasks.map((t) => t.id).join(" >> ")}`;
  const lines: string[] = [];
  for (const t of tasks) for (const up of t.upstream) lines.push(`    ${up} >> ${t.id}`);
  return lines.join("\n");
}
