import { definePipeline } from "dagspec";

export default definePipeline({
  id: "metrics",
  description: "A pipeline id that is another's backfill DAG id.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "N", format: "count" }], subject: "s", recipients: ["a@example.com"] },
});
