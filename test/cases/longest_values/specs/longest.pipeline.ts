import { definePipeline } from "dagspec";

// Every length limit at its maximum (id 64, owner 80, subject 88 columns, emails 90, tags 40): the
// limits exist so that each generated line stays within ruff's 110 columns.

// PostgreSQL warehouse with an S3 lake.
export default definePipeline({
  id: "pxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  description: "Settled payment volume and refund rate for finance.",
  owner: "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo",
  schedule: { cron: "0 7 * * *", timezone: "UTC", startDate: "2026-06-01", catchup: true, maxActiveRuns: 2 },
  sla: {
    deliverBy: "10:00",
    pagerduty: { connId: "pagerduty_finance" },
    engineers: ["finance-data@example.com"],
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
    subject: "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww",
    recipients: ["rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@example.com"],
  },
});
