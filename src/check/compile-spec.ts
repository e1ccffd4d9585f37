/**
 * The front end for one spec file: shape, SQL, names, graph, schedule and safety checks, then
 * lowering. Every check runs even after another failed, so a user sees all errors at once.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PipelineIR } from "../ir/types.ts";
import { lower } from "../ir/lower.ts";
import { localImports } from "../load/local-imports.ts";
import type { Reporter } from "./context.ts";
import { checkShape } from "./shape.ts";
import { resolveSql, type ResolvedSql, type SqlInput } from "./resolve-sql.ts";
import { checkSql, type SqlDeps } from "./sql-refs.ts";
import { findCycle, topoSort } from "./graph.ts";
import { checkModels, checkReport, checkTables } from "./references.ts";
import { checkSchedule } from "./schedule.ts";
import { checkTemplateSafety } from "./safety.ts";
import { checkPublishGates } from "./publish-gates.ts";
import { checkDerivedIdentifiers } from "./identifiers.ts";
import { checkDagIds } from "./dag-ids.ts";
import { checkReadinessSql } from "./readiness-sql.ts";
import { checkExpressionTests } from "./expression-tests.ts";
import { checkAcceptedValues } from "./accepted-values.ts";
import { checkRefColumns } from "./ref-columns.ts";
import { checkHistorySourceReads, checkHistoryTables, historyModels } from "./history.ts";
import { planRangeBuild } from "./range-build.ts";

export function compileSpec(root: string, specFile: string, raw: Record<string, unknown>, report: Reporter): PipelineIR | undefined {
  const checked = checkShape(raw, report);
  if (!checked) return undefined;
  const before = report.diagnostics.length;
  checkHistoryTables(checked, report);
  // The models the compiler writes for history tables join the user's (unless a name is taken,
  // reported above), so ref(), relationships tests and the graph see them like any other model.
  const generated = historyModels(checked).filter((g) => !Object.hasOwn(checked.models, g.name));
  const spec = { ...checked, models: { ...Object.fromEntries(generated.map((g) => [g.name, g.model])), ...checked.models } };

  const resolved = new Map<string, ResolvedSql>();
  const sqlCtx = (path: (string | number)[]) => ({ root, specFile, sourceName: spec.source.name, path, report });
  const deps = new Map<string, SqlDeps>();
  const testDeps = new Map<string, SqlDeps>();
  for (const g of generated) {
    resolved.set(`model:${g.name}`, { text: g.sql, file: null });
    // Their columns are known by construction (the SQL is ours), though not parsed from it.
    deps.set(g.name, { refs: [], sources: g.sources, outputs: null, exactOutputs: Object.keys(g.model.columns), queries: [] });
  }
  for (const [name, m] of Object.entries(checked.models)) {
    const sql = resolveSql(m.sql as SqlInput, sqlCtx(["models", name, "sql"]));
    if (!sql) continue;
    resolved.set(`model:${name}`, sql);
    const d = checkSql(spec, { kind: "model", name }, sql, ["models", name, "sql"], report);
    if (d) checkHistorySourceReads(spec, { kind: "model", name }, d.sources, ["models", name, "sql"], report);
    if (d) deps.set(name, d);
  }
  for (const [name, t] of Object.entries(spec.tests)) {
    const sql = resolveSql(t.sql as SqlInput, sqlCtx(["tests", name, "sql"]));
    if (!sql) continue;
    resolved.set(`test:${name}`, sql);
    const d = checkSql(spec, { kind: "test", name }, sql, ["tests", name, "sql"], report);
    if (d) checkHistorySourceReads(spec, { kind: "test", name }, d.sources, ["tests", name, "sql"], report);
    if (d) testDeps.set(name, d);
  }

  const graph = new Map([...deps].map(([n, d]) => [n, d.refs]));
  const cycle = findCycle(graph);
  if (cycle) report.error("DS1203", ["models", cycle[0] as string, "sql"], `models depend on each other in a cycle: ${cycle.join(" -> ")}`);

  checkTables(spec, report);
  checkModels(spec, deps, report);
  checkReport(spec, deps, report);
  checkTemplateSafety(spec, report);
  checkDerivedIdentifiers(spec, report);
  checkDagIds(spec, report);
  checkReadinessSql(spec, report);
  checkExpressionTests(spec, report);
  // Column names and types across models: every model's SQL has been analysed by now.
  for (const [name, d] of deps) checkRefColumns(spec, { kind: "model", name }, d, deps, report);
  for (const [name, d] of testDeps) checkRefColumns(spec, { kind: "test", name }, d, deps, report);
  checkAcceptedValues(spec, Object.keys(checked.models), deps, new Map(generated.map((g) => [g.name, g.types])), report);
  const schedule = checkSchedule(spec, report);

  if (report.diagnostics.slice(before).some((d) => d.severity === "error") || !schedule || cycle) return undefined;

  const sqlFiles = [...resolved.values()].map((r) => r.file).filter((f): f is string => f !== null).sort();
  const hash = createHash("sha256").update(readFileSync(join(root, specFile)));
  for (const f of sqlFiles) hash.update(`\0${f}\0`).update(readFileSync(join(root, f)));
  // Local modules the spec imports (introspected sources, a shared base spec) are part of it too.
  for (const f of localImports(root, specFile)) hash.update(`\0import\0${f}\0`).update(readFileSync(join(root, f)));

  const pick = (m: Map<string, SqlDeps>, prefix: string) =>
    new Map([...m].map(([n, d]) => [n, { sql: resolved.get(`${prefix}:${n}`)!.text, refs: d.refs, sources: d.sources }]));
  const order = topoSort(graph);
  const texts = (prefix: string, m: Map<string, SqlDeps>) => new Map([...m.keys()].map((n) => [n, resolved.get(`${prefix}:${n}`)!.text]));
  const rangeBuild = planRangeBuild(spec, order, { models: texts("model", deps), tests: texts("test", testDeps) }, deps, testDeps, {
    history: new Set(generated.filter((g) => g.rangeSql === null).map((g) => g.name)),
    current: new Map(generated.flatMap((g) => (g.rangeSql === null ? [] : [[g.name, g.rangeSql] as const]))),
  });
  const ir = lower({
    spec,
    rangeBuild,
    specFile,
    specHash: hash.digest("hex").slice(0, 16),
    startMinutes: schedule.startMinutes,
    sla: schedule.sla,
    models: pick(deps, "model"),
    tests: pick(testDeps, "test"),
    modelOrder: order,
  });
  checkPublishGates(ir, report);
  return ir;
}
