/**
 * Text that reaches a templating engine downstream must not carry template syntax: dbt renders Jinja
 * in YAML descriptions, Airflow renders Jinja in a sensor's SQL. Quotes, backslashes and newlines
 * are escaped by the emitters; `{{`/`{%` would be executed, so they are refused here.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";

const TEMPLATE = /\{\{|\{%|\{#|%\}|\}\}/;

export function checkTemplateSafety(spec: CheckedSpec, report: Reporter): void {
  const check = (value: string | undefined, path: (string | number)[], where: string) => {
    if (value !== undefined && TEMPLATE.test(value))
      report.error("DS1212", path, `template syntax ({{, {%, {#) is not allowed in ${where}`, "it would be executed by Jinja downstream");
  };
  check(spec.description, ["description"], "the description");
  check(spec.source.readiness.sql, ["source", "readiness", "sql"], "the readiness SQL (use %(report_day)s parameters instead)");
  check(spec.report.subject, ["report", "subject"], "the report subject");
  spec.report.kpis.forEach((k, i) => check(k.label, ["report", "kpis", i, "label"], "a KPI label"));
  for (const [name, t] of Object.entries(spec.source.tables)) check(t.description, ["source", "tables", name, "description"], "a description");
  for (const [name, m] of Object.entries(spec.models)) {
    check(m.description, ["models", name, "description"], "a description");
    for (const [col, doc] of Object.entries(m.columns)) {
      check(doc.description, ["models", name, "columns", col, "description"], "a description");
      (doc.tests ?? []).forEach((t, i) => {
        const at = ["models", name, "columns", col, "tests", i];
        if (typeof t === "object" && "expression" in t) check(t.expression.sql, [...at, "expression", "sql"], "an expression test");
        // dbt renders test arguments as Jinja while parsing the project.
        if (typeof t === "object" && "accepted_values" in t)
          t.accepted_values.values.forEach((v, j) => check(typeof v === "string" ? v : undefined, [...at, "accepted_values", "values", j], "an accepted value"));
      });
    }
  }
  for (const [name, t] of Object.entries(spec.tests)) check(t.description, ["tests", name, "description"], "a description");
}
