/**
 * Emits `dags/<pipeline_id>.py`, the pipeline's daily DAG and its one-pass backfill DAG
 * (backfill-dag.ts): builds the view model, the template lays it out.
 */
import { CONTRACT_VERSION } from "../../ir/contract.ts";
import type { PipelineIR } from "../../ir/types.ts";
import { hashComment } from "../header.ts";
import { PY_LINE_LENGTH, pyDocBody, pyLiteral, pyStr, pyWrappedStr } from "../python.ts";
import { render } from "../templates.ts";
import { wrapText } from "../text.ts";
import { BACKFILL_OPERATORS, backfillDag } from "./backfill-dag.ts";
import { docMd } from "./doc-md.ts";
import { deadlineKwargs, pipelineConfig } from "./pipeline-config.ts";
import { dependencyCode, operatorImports, taskCode } from "./task-code.ts";

function deadlines(ir: PipelineIR) {
  if (!ir.sla) return [];
  const sla = ir.sla;
  const alert = (stage: "at_risk" | "breach", minutes: number) => ({
    minutes,
    kwargs: pyLiteral(deadlineKwargs(ir, sla, stage), 16, "kwargs=".length, 1),
  });
  return [alert("at_risk", sla.atRiskAfterMinutes), alert("breach", sla.breachAfterMinutes)];
}

/** `from module import a, b`, wrapped one name a line (as ruff formats it) when too long. */
function fromImport(module: string, names: readonly string[]): string {
  const flat = `from ${module} import ${names.join(", ")}`;
  if (flat.length <= PY_LINE_LENGTH) return flat;
  return [`from ${module} import (`, ...names.map((n) => `    ${n},`), ")"].join("\n");
}

export function emitDag(ir: PipelineIR): string {
  const [y, m, d] = ir.schedule.startDate.split("-").map(Number);
  // Sorted as ruff's isort sorts them: the constant DAG first, then the classes.
  const sdk = ["DAG", ...(ir.sla ? ["AsyncCallback", "CronTriggerTimetable", "DeadlineAlert", "DeadlineReference"] : ["CronTriggerTimetable"]), "Param"];
  const lag = ir.schedule.reportLagDays;
  return render("airflow/dag.py.hbs", {
    header: hashComment(ir),
    docstring: wrapText(pyDocBody(`${ir.id}: ${ir.description}`), 100),
    sdkImport: fromImport("airflow.sdk", sdk),
    operatorImport: fromImport("dagspec_runtime.operators", [...operatorImports(ir.tasks), ...Object.values(BACKFILL_OPERATORS)].sort()),
    config: pyLiteral(pipelineConfig(ir), 0, "CONFIG = ".length),
    contractVersion: CONTRACT_VERSION,
    docMd: wrapText(pyDocBody(docMd(ir)), 100),
    dagId: pyStr(ir.id),
    description: pyWrappedStr(ir.description, 4, "description=".length),
    lagText: lag === 0 ? "of its scheduled start" : `${lag} day${lag === 1 ? "" : "s"} before its scheduled start`,
    cron: pyStr(ir.schedule.cron),
    timezone: pyStr(ir.schedule.timezone),
    startDate: `${y}, ${m}, ${d}`,
    catchup: ir.schedule.catchup ? "True" : "False",
    maxActiveRuns: ir.schedule.maxActiveRuns,
    tags: pyLiteral(ir.tags, 4, "tags=".length, 1),
    owner: pyStr(ir.owner),
    retries: ir.schedule.retries,
    retryDelayMinutes: ir.schedule.retryDelayMinutes,
    deadlines: deadlines(ir),
    tasks: ir.tasks.map((t) => ({ code: taskCode(ir, t) })),
    chain: dependencyCode(ir.tasks),
    backfill: backfillDag(ir),
  });
}

