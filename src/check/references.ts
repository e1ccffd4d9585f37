/**
 * Name checks the type system cannot make for every spec (plain JS, `as any`, strings inside SQL):
 * keys and cursors name declared columns, tests and KPIs name real models and columns, and what a
 * model declares matches what its SQL produces.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import type { SqlDeps } from "./sql-refs.ts";

export function checkTables(spec: CheckedSpec, report: Reporter): void {
  for (const [name, t] of Object.entries(spec.source.tables)) {
    const base = ["source", "tables", name];
    t.primaryKey.forEach((c, i) => {
      if (!Object.hasOwn(t.columns, c)) report.error("DS1216", [...base, "primaryKey", i], `primary key column '${c}' is not declared in ${name}.columns`);
    });
    if (t.extract.mode === "incremental") {
      const type = Object.hasOwn(t.columns, t.extract.cursor) ? t.columns[t.extract.cursor] : undefined;
      if (!type) report.error("DS1216", [...base, "extract", "cursor"], `cursor '${t.extract.cursor}' is not declared in ${name}.columns`);
      else if (type !== "timestamptz" && type !== "date")
        report.error("DS1214", [...base, "extract", "cursor"], `cursor '${t.extract.cursor}' is ${type}; an incremental cursor must be timestamptz or date`, "timestamps without a zone cannot be placed in the pipeline's calendar day");
    }
  }
}

export function checkModels(spec: CheckedSpec, deps: ReadonlyMap<string, SqlDeps>, report: Reporter): void {
  for (const [name, m] of Object.entries(spec.models)) {
    const base = ["models", name];
    const declared = Object.keys(m.columns);
    if (typeof m.materialized === "object") {
      const inc = m.materialized;
      inc.uniqueKey.forEach((c, i) => {
        if (!declared.includes(c)) report.error("DS1217", [...base, "materialized", "uniqueKey", i], `unique key '${c}' is not a declared column of ${name}`);
      });
      if (!declared.includes(inc.partitionColumn))
        report.error("DS1217", [...base, "materialized", "partitionColumn"], `partition column '${inc.partitionColumn}' is not a declared column of ${name}`);
    }
    const outputs = deps.get(name)?.outputs;
    if (outputs) {
      for (const c of declared) {
        if (!outputs.includes(c))
          report.error("DS1220", [...base, "columns", c], `${name} declares column '${c}' but its SQL does not select it`, `the SQL selects: ${outputs.join(", ")}`);
      }
    }
    for (const [col, doc] of Object.entries(m.columns)) {
      (doc.tests ?? []).forEach((t, i) => {
        if (typeof t !== "object" || !("relationships" in t)) return;
        const { to, field } = t.relationships;
        const path = [...base, "columns", col, "tests", i, "relationships"];
        const target = Object.hasOwn(spec.models, to) ? spec.models[to] : undefined;
        if (!target) report.error("DS1204", [...path, "to"], `relationships test on ${name}.${col} names unknown model '${to}'`);
        else if (!Object.hasOwn(target.columns, field)) report.error("DS1204", [...path, "field"], `relationships test on ${name}.${col} names '${to}.${field}', which ${to} does not declare`);
      });
    }
  }
}

export function checkReport(spec: CheckedSpec, deps: ReadonlyMap<string, SqlDeps>, report: Reporter): void {
  const r = spec.report;
  const model = Object.hasOwn(spec.models, r.model) ? spec.models[r.model] : undefined;
  if (!model) {
    report.error("DS1205", ["report", "model"], `report model '${r.model}' is not a model of this pipeline`);
    return;
  }
  const outputs = deps.get(r.model)?.outputs ?? null;
  const produces = (c: string) => Object.hasOwn(model.columns, c) && (!outputs || outputs.includes(c));
  if (!produces(r.dayColumn)) report.error("DS1219", ["report", "dayColumn"], `'${r.dayColumn}' is not a column of ${r.model}`);
  r.kpis.forEach((k, i) => {
    if (!produces(k.column))
      report.error("DS1205", ["report", "kpis", i, "column"], `KPI '${k.column}' is not produced by ${r.model}`, `${r.model} columns: ${Object.keys(model.columns).join(", ")}`);
  });
}
