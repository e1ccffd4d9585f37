import { definePipeline } from "dagspec";

// 01:00 to 05:00 in New York spans the 02:00 clock change twice a year; and a cron Airflow could
// run but dagspec cannot measure an SLA from.
export default definePipeline({
  id: "dst_window",
  description: "SLA window across the clock change.",
  owner: "data",
  schedule: { cron: "0 1 * * *", timezone: "America/New_York", startDate: "2026-01-01" },
  sla: { deliverBy: "05:00", pagerduty: { connId: "pd" }, engineers: ["oncall@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "N", format: "count" }], subject: "s", recipients: ["a@example.com"] },
});
