import { definePipeline } from "dagspec";

// Mistakes the TypeScript compiler catches in the editor, reported by gen build as well.
export default definePipeline({
  id: "typed_refs",
  description: "Typed references.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: {
      orders: {
        columns: { id: "bigint", amount: "numeric(12,2)", created_at: "timestamptz" },
        primaryKey: ["order_id"],
        extract: { mode: "incremental", cursor: "created" },
      },
    },
  },
  models: {
    stg_orders: {
      layer: "staging",
      sql: (q) => `select id, amount, ds from ${q.source("order")}`,
      columns: { id: { tests: [{ relationships: { to: "stg_user", field: "id" } }] }, amount: {}, ds: {} },
    },
    fct: {
      layer: "marts",
      sql: (q) => `select ds, sum(amount) as revenue from ${q.ref("stg_order")} group by ds`,
      columns: { ds: {}, revenue: {} },
    },
  },
  report: {
    model: "fct",
    dayColumn: "ds",
    kpis: [{ column: "revenu", label: "Revenue", format: "currency" }],
    subject: "s",
    recipients: ["a@example.com"],
  },
});
