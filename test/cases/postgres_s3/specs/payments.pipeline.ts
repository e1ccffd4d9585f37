import { definePipeline } from "dagspec";

// PostgreSQL warehouse with an S3 lake.
export default definePipeline({
  id: "payments_daily",
  description: "Settled payment volume and refund rate for finance.",
  owner: "finance-data",
  schedule: { cron: "0 7 * * *", timezone: "UTC", startDate: "2026-06-01", catchup: true, maxActiveRuns: 2 },
  sla: {
    deliverBy: "10:00",
    pagerduty: { connId: "pagerduty_finance" },
    engineers: ["finance-data@example.com"],
    // Failure alerts through their own relay: an outage of the report's does not silence them.
    smtpConnId: "smtp_alerts",
  },
  source: {
    connId: "payments_db",
    readiness: { sql: "select not in_maintenance from ops.status" },
    tables: {
      payments: {
        schema: "billing",
        columns: { id: "bigint", amount: "numeric(12,2)", currency: "text", state: "text", settled_at: "timestamptz" },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "settled_at" },
      },
    },
  },
  lake: { kind: "s3", bucket: "acme-lake", prefix: "finance/payments", connId: "aws_lake" },
  warehouse: { kind: "postgres", connId: "warehouse_db", schema: "finance" },
  models: {
    stg_payments: {
      layer: "staging",
      sql: (q) => `select id as payment_id, amount, currency, state, ds from ${q.source("payments")}`,
      columns: {
        payment_id: { tests: ["unique", "not_null"] },
        amount: {},
        currency: { tests: [{ accepted_values: { values: ["USD", "EUR", "GBP"] } }] },
        state: {},
        ds: {},
      },
    },
    fct_payments_daily: {
      layer: "marts",
      sql: (q) => `
        select ds,
               sum(amount) filter (where state = 'settled') as settled_volume,
               count(*) filter (where state = 'refunded')::numeric / nullif(count(*), 0) as refund_rate
        from ${q.ref("stg_payments")}
        group by ds`,
      columns: { ds: { tests: ["unique"] }, settled_volume: {}, refund_rate: {} },
    },
  },
  report: {
    model: "fct_payments_daily",
    dayColumn: "ds",
    kpis: [
      { column: "settled_volume", label: "Settled volume", format: "currency" },
      { column: "refund_rate", label: "Refund rate", format: "percent" },
    ],
    subject: "Payments {ds}",
    recipients: ["cfo@example.com"],
    corrections: "alert",
  },
});
