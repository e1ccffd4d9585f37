/**
 * Lowers a checked spec to the IR: applies defaults, orders every collection, formats SQL, and lays
 * out the DAG's tasks. Pure: everything it needs is passed in.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import { formatDbtSql, formatReadinessSql } from "../sql/format-sql.ts";
import { lowerNames } from "./names.ts";
import { PARTITION_COLUMN } from "./types.ts";
import type { ColumnTestIR, MaterializationIR, ModelIR, RangeFormIR, PipelineIR, SingularTestIR, SlaIR, TableIR, TaskIR, TestSeverity } from "./types.ts";
import { byCodePoint } from "../util/code-point-order.ts";
import { lakeTargetOf, warehouseTargetOf } from "../emit/targets/select.ts";
import type { RangeBuildPlan } from "../check/range-build.ts";

export interface LowerInput {
  spec: CheckedSpec;
  specFile: string;
  specHash: string;
  startMinutes: number[];
  sla: SlaIR | null;
  /** Resolved SQL text and dependencies per model / singular test. */
  models: ReadonlyMap<string, { sql: string; refs: string[]; sources: string[] }>;
  tests: ReadonlyMap<string, { sql: string; refs: string[]; sources: string[] }>;
  /** Model names in dependency order. */
  modelOrder: string[];
  /** How a backfill's range build takes each model and test, if it can (check/range-build.ts). */
  rangeBuild: RangeBuildPlan;
}

type SpecColumnTest = NonNullable<CheckedSpec["models"][string]["columns"][string]["tests"]>[number];

export function lowerColumnTest(t: SpecColumnTest): ColumnTestIR {
  if (t === "unique" || t === "not_null") return { kind: t, severity: "error" };
  if ("unique" in t) return { kind: "unique", severity: t.unique.severity ?? "error" };
  if ("not_null" in t) return { kind: "not_null", severity: t.not_null.severity ?? "error" };
  if ("accepted_values" in t) return { kind: "accepted_values", values: [...t.accepted_values.values], severity: t.accepted_values.severity ?? "error" };
  if ("relationships" in t) return { kind: "relationships", to: t.relationships.to, field: t.relationships.field, severity: t.relationships.severity ?? "error" };
  return { kind: "expression", name: t.expression.name, sql: t.expression.sql, severity: t.expression.severity ?? "error" };
}

function lowerTables(spec: CheckedSpec): TableIR[] {
  return Object.entries(spec.source.tables)
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([name, t]) => ({
      name,
      schema: t.schema,
      description: t.description ?? null,
      columns: Object.entries(t.columns).map(([n, type]) => ({ name: n, type })),
      primaryKey: [...t.primaryKey],
      mode: t.extract.mode,
      cursorColumn: t.extract.mode === "snapshot" ? null : t.extract.cursor,
    }));
}

function lowerMaterialization(m: CheckedSpec["models"][string]): MaterializationIR {
  if (typeof m.materialized === "object") return { kind: "incremental", uniqueKey: [...m.materialized.uniqueKey], partitionColumn: m.materialized.partitionColumn };
  return { kind: m.materialized ?? (m.layer === "staging" ? "view" : "table") };
}

/** A model that keeps the lake's partition column is partitioned by report day. */
function dayColumnOf(m: CheckedSpec["models"][string]): string | null {
  if (typeof m.materialized === "object") return m.materialized.partitionColumn;
  return PARTITION_COLUMN in m.columns ? PARTITION_COLUMN : null;
}

function lowerModels(input: LowerInput): ModelIR[] {
  return input.modelOrder.map((name) => {
    const m = input.spec.models[name]!;
    const sql = input.models.get(name)!;
    return {
      name,
      layer: m.layer,
      description: m.description ?? null,
      sql: formatDbtSql(sql.sql),
      materialized: lowerMaterialization(m),
      dayColumn: dayColumnOf(m),
      columns: Object.entries(m.columns).map(([c, doc]) => ({ name: c, description: doc.description ?? null, tests: (doc.tests ?? []).map(lowerColumnTest) })),
      refs: sql.refs,
      sources: sql.sources,
      rangeForm: lowerRangeForm(input.rangeBuild.models.get(name) ?? { kind: "static" }),
    };
  });
}

function lowerRangeForm(form: RangeFormIR): RangeFormIR {
  return form.kind === "as_of" ? { ...form, rangeSql: formatDbtSql(form.rangeSql) } : form;
}

function lowerTests(input: LowerInput): SingularTestIR[] {
  return Object.entries(input.spec.tests)
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([name, t]) => {
      const sql = input.tests.get(name)!;
      return {
        name,
        description: t.description ?? null,
        sql: formatDbtSql(sql.sql),
        severity: t.severity as TestSeverity,
        eachDay: input.rangeBuild.eachDayTests.has(name),
        refs: sql.refs,
        sources: sql.sources,
      };
    });
}

/** Human names of the error-severity tests, as the gate's documentation lists them. */
export function gateNames(models: ModelIR[], tests: SingularTestIR[]): string[] {
  const names: string[] = [];
  for (const m of models)
    for (const c of m.columns)
      for (const t of c.tests) if (t.severity === "error") names.push(`${m.name}.${c.name}: ${t.kind === "expression" ? t.name : t.kind}`);
  for (const t of tests) if (t.severity === "error") names.push(t.name);
  return names.sort();
}

function lowerTasks(spec: CheckedSpec, models: ModelIR[], tests: SingularTestIR[]): TaskIR[] {
  const tasks: TaskIR[] = [
    { kind: "wait_for_source", id: "wait_for_source", upstream: [] },
    { kind: "extract", id: "extract", upstream: ["wait_for_source"] },
  ];
  let last = "extract";
  if (!warehouseTargetOf(spec.warehouse.kind).readsLake) {
    tasks.push({ kind: "load_raw", id: "load_raw", upstream: [last] });
    last = "load_raw";
  }
  tasks.push({ kind: "dbt_build", id: "dbt_build", upstream: [last], gates: gateNames(models, tests) });
  tasks.push({ kind: "publish_tables", id: "publish_tables", upstream: ["dbt_build"], models: models.filter((m) => m.layer === "marts").map((m) => m.name) });
  tasks.push({ kind: "publish_report", id: "publish_report", upstream: ["publish_tables"] });
  return tasks;
}

export function lower(input: LowerInput): PipelineIR {
  const { spec } = input;
  const models = lowerModels(input);
  const singularTests = lowerTests(input);
  return {
    id: spec.id,
    description: spec.description,
    owner: spec.owner,
    tags: [...spec.tags].sort(),
    specFile: input.specFile,
    specHash: input.specHash,
    schedule: { ...spec.schedule, startMinutes: input.startMinutes },
    sla: input.sla,
    source: {
      connId: spec.source.connId,
      name: spec.source.name,
      readinessSql: formatReadinessSql(spec.source.readiness.sql),
      pokeIntervalSeconds: spec.source.readiness.pokeIntervalSeconds,
      timeoutSeconds: spec.source.readiness.timeoutMinutes * 60,
      tables: lowerTables(spec),
    },
    lake: lakeTargetOf(spec.lake.kind).lower(spec),
    warehouse: warehouseTargetOf(spec.warehouse.kind).lower(spec),
    dbt: { project: spec.id, target: spec.warehouse.kind, rangeBuild: input.rangeBuild.ok },
    models,
    singularTests,
    report: {
      model: spec.report.model,
      dayColumn: spec.report.dayColumn,
      kpis: spec.report.kpis.map((k) => ({ ...k })),
      subject: spec.report.subject,
      recipients: [...spec.report.recipients],
      smtpConnId: spec.report.smtpConnId,
      currency: spec.report.currency,
      emailBackfills: spec.report.emailBackfills,
      corrections: spec.report.corrections,
    },
    tasks: lowerTasks(spec, models, singularTests),
    names: lowerNames(),
  };
}
