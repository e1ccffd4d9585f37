import { definePipeline } from "dagspec";

// Column names and accepted values that PostgreSQL refuses when dbt runs the models and tests,
// even on empty tables: values that are not literals of the column's type (traced from the declared
// source column through bare projections and ref()), and columns a ref()'d model does not select.
export default definePipeline({
  id: "columns_pipeline",
  description: "Column type and name errors.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: {
      orders: {
        columns: {
          id: "bigint",
          qty: "integer",
          amount: "numeric(12,2)",
          paid: "boolean",
          placed_on: "date",
          created_at: "timestamptz",
          token: "uuid",
          currency: "text",
        },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "created_at" },
      },
    },
  },
  models: {
    stg_orders: {
      layer: "staging",
      sql: (q) => `select o.id as order_id, qty, amount, paid, placed_on, created_at, token, currency, ds from ${q.source("orders")} o`,
      columns: {
        order_id: { tests: [{ accepted_values: { values: [1, "2", "USD"] } }] },
        qty: { tests: [{ accepted_values: { values: [1.5, 3_000_000_000] } }] },
        amount: { tests: [{ accepted_values: { values: ["12.50", "twelve"] } }] },
        paid: { tests: [{ accepted_values: { values: ["t", "yes", 1, "maybe"] } }] },
        placed_on: { tests: [{ accepted_values: { values: ["2026-02-29"] } }] },
        created_at: { tests: [{ accepted_values: { values: ["soon"] } }] },
        token: { tests: [{ accepted_values: { values: ["not-a-uuid"] } }] },
        currency: { tests: [{ accepted_values: { values: ["USD", 42] } }] },
        ds: { tests: [{ accepted_values: { values: ["yesterday", "someday"] } }] },
      },
    },
    fct_orders: {
      layer: "marts",
      sql: (q) => `select s.ds, s.order_id, amount_usd, count(*) as n from ${q.ref("stg_orders")} s group by 1, 2, 3 order by n`,
      columns: { ds: {}, order_id: { tests: [{ accepted_values: { values: ["EUR"] } }] }, amount_usd: {}, n: {} },
    },
  },
  tests: {
    no_refunds: { sql: (q) => `select order_id from ${q.ref("stg_orders")} where refunded` },
  },
  report: {
    model: "fct_orders",
    dayColumn: "ds",
    kpis: [{ column: "n", label: "Orders", format: "count" }],
    subject: "Daily {ds}",
    recipients: ["ceo@example.com"],
  },
});
