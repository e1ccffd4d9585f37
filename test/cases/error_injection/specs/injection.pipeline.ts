import { definePipeline } from "dagspec";

// Spec text that dbt would execute as Jinja: env_var() reads the warehouse password at `dbt parse`.
// Only ref(), source(), var('ds'), this and {% if is_incremental() %} may appear in SQL, and no
// template syntax at all in test values. Unclosed Jinja is a syntax error, found in linear time.
const SPACES = " ".repeat(50_000);

export default definePipeline({
  id: "injection",
  description: "Jinja that must never reach dbt.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint", note: "text" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: {
    leak: {
      layer: "staging",
      sql: "select ds, '{{ env_var(\"DAGSPEC_PG_PASSWORD\") }}' as note from {{ source('app', 't') }}",
      columns: { ds: {}, note: {} },
    },
    stmt: {
      layer: "staging",
      sql: "{% set x = run_query('drop table t') %}\nselect ds from {{ source('app', 't') }}",
      columns: { ds: {} },
    },
    unclosed_if: {
      layer: "staging",
      sql: "select ds from {{ source('app', 't') }}\n{% if is_incremental() %} where ds = '{{ var(\"ds\") }}'",
      columns: { ds: {} },
    },
    unclosed_expr: {
      layer: "staging",
      sql: `select ds from {{${SPACES}`,
      columns: { ds: {} },
    },
    constructor: {
      layer: "marts",
      sql: "select ds, count(*) as n from {{ ref('toString') }} join {{ source('app', 'valueOf') }} using (ds) group by ds",
      columns: {
        ds: {},
        n: { tests: [{ accepted_values: { values: ["ok", "{{ env_var('DAGSPEC_PG_PASSWORD') }}"] } }] },
      },
    },
  },
  tests: {
    drop_it: { sql: "select 1 from {{ this }} {% do run_query('drop schema public cascade') %}" },
  },
  report: {
    model: "constructor",
    dayColumn: "ds",
    kpis: [{ column: "n", label: "Rows", format: "count" }],
    subject: "Daily {ds}",
    recipients: ["a@example.com"],
  },
});
