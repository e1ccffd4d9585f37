import { definePipeline } from "dagspec";

// The deadline falls before the run starts; text that would run as Jinja downstream.
export default definePipeline({
  id: "before_start",
  description: "Uses {{ macros }} in a description.",
  owner: "data",
  schedule: { cron: "0 9 * * *", timezone: "America/New_York", startDate: "2026-01-01" },
  sla: { deliverBy: "08:00", pagerduty: { connId: "pd" }, engineers: ["oncall@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select '{{ ds }}' is not null" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "N", format: "count" }], subject: "s", recipients: ["a@example.com"] },
});
