/**
 * Proves on the compiled DAG that every publish step sits downstream of a gate that runs every
 * error-severity test of the models it publishes and of everything those models read. A lowering
 * change that moved a publish step ahead of its gate fails the build here, before any file is written.
 */
import type { PipelineIR, TaskIR } from "../ir/types.ts";
import { gateNames } from "../ir/lower.ts";
import type { Reporter } from "./context.ts";

function upstreamClosure(tasks: readonly TaskIR[], id: string): Set<string> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const seen = new Set<string>();
  const todo = [...(byId.get(id)?.upstream ?? [])];
  while (todo.length) {
    const t = todo.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    todo.push(...(byId.get(t)?.upstream ?? []));
  }
  return seen;
}

export function checkPublishGates(ir: PipelineIR, report: Reporter): void {
  const required = new Set(gateNames(ir.models, ir.singularTests));
  for (const task of ir.tasks) {
    if (task.kind !== "publish_tables" && task.kind !== "publish_report") continue;
    const covered = new Set<string>();
    for (const up of upstreamClosure(ir.tasks, task.id)) {
      const gate = ir.tasks.find((t) => t.id === up);
      if (gate?.kind === "dbt_build") gate.gates.forEach((g) => covered.add(g));
    }
    const missing = [...required].filter((g) => !covered.has(g)).sort();
    if (missing.length)
      report.error("DS1211", ["report"], `task ${task.id} is not downstream of the error-severity tests: ${missing.join("; ")}`);
  }
}
