import { definePipeline } from "dagspec";

// PostgreSQL truncates names to 63 bytes: a 60-character schema would make '<schema>_audit' the
// published schema itself. A raw schema equal to the audit schema is refused too; so are a readiness
// parameter the sensor does not pass and an expression test that is not one boolean expression.
export default definePipeline({
  id: "postgres_names",
  description: "Derived names that PostgreSQL would truncate or merge.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true where %(report_day)s::date < now() and %(tomorrow)s is null" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  warehouse: { kind: "postgres", connId: "wh", schema: "a_schema_name_that_is_sixty_characters_long_xxxxxxxxxxxxxxxx", rawSchema: "a_schema_name_that_is_sixty_characters_long_xxxxxxxxxxxxxxxx" },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: { tests: [{ expression: { sql: "{column} >=", name: "dangling" } }] } } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "Rows", format: "count" }], subject: "Daily", recipients: ["a@example.com"] },
});
