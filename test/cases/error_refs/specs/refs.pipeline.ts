import { definePipeline } from "dagspec";

// Reference errors the compiler finds in SQL strings, where the type system cannot look.
export default definePipeline({
  id: "refs_pipeline",
  description: "Reference errors.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: {
      orders: {
        schema: "app",
        columns: { id: "bigint", amount: "numeric(12,2)", created_at: "text" },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "created_at" },
      },
    },
  },
  models: {
    stg_orders: {
      layer: "staging",
      sql: "select id, amount, discount, ds from {{ source('app', 'orders') }}",
      columns: { id: {}, amount: {}, discount: {}, ds: {} },
    },
    stg_refunds: {
      layer: "staging",
      sql: "select id from {{ source('app', 'refunds') }}",
      columns: { id: {} },
    },
    int_a: {
      layer: "intermediate",
      sql: "select ds from {{ ref('int_b') }}",
      columns: { ds: {} },
    },
    int_b: {
      layer: "intermediate",
      sql: "select ds from {{ ref('int_a') }}",
      columns: { ds: {} },
    },
    fct_daily: {
      layer: "marts",
      sql: `select ds, sum(amount) as revenue
            from {{ ref('stg_order') }}
            group by ds`,
      columns: { ds: {}, revenue: {}, orders: {} },
    },
    broken: {
      layer: "marts",
      sql: "select ds, from where",
      columns: { ds: {} },
    },
  },
  report: {
    model: "fct_daily",
    dayColumn: "ds",
    kpis: [{ column: "orders", label: "Orders", format: "count" }],
    subject: "Daily {ds}",
    recipients: ["ceo@example.com"],
  },
});
