import { definePipeline } from "dagspec";

// Cron Airflow's croniter refuses: 0 6 32 * *
export default definePipeline({
  id: "cron_dom_range",
  description: "UTC is a link.",
  owner: "data",
  schedule: { cron: "0 6 32 * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "Rows", format: "count" }], subject: "Daily", recipients: ["a@example.com"] },
});
