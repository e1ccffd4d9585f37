import { definePipeline } from "dagspec";

// Two runs a day: a 13:00 deadline for the 06:00 run falls after the 12:00 run starts.
export default definePipeline({
  id: "after_next_run",
  description: "Deadline after the next run.",
  owner: "data",
  schedule: { cron: "0 6,12 * * *", timezone: "UTC", startDate: "2026-01-01" },
  sla: { deliverBy: "13:00", pagerduty: { connId: "pd" }, engineers: ["oncall@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "N", format: "count" }], subject: "s", recipients: ["a@example.com"] },
});
