import { definePipeline } from "dagspec";

// Values JavaScript accepts and Airflow, pendulum, croniter, smtplib or YAML would not: each is
// refused here, at its field, before anything is written.
export default definePipeline({
  id: "consumer_rejects",
  description: "Lone surrogate: \uD800 in a description.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "america/new_york", startDate: "0099-01-01" },
  sla: { deliverBy: "07:00", pagerduty: { connId: "pd" }, engineers: ["ops\u0000@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  lake: { kind: "local", path: "lake/../../etc" },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "Rows", format: "count" }], subject: "Daily", recipients: ["a@example.com"] },
});
