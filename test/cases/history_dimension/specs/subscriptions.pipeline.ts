import { definePipeline } from "dagspec";

// A dimension kept as a history (SCD type 2) on PostgreSQL: plans change a few rows a day, so each
// run copies only the changed rows; the key is composite and the gate reads the plans as of the day.
export default definePipeline({
  id: "subscription_revenue",
  description: "Daily subscription revenue by plan.",
  owner: "billing",
  schedule: { cron: "0 5 * * *", timezone: "Europe/Paris", startDate: "2026-03-01" },
  source: {
    connId: "billing_db",
    name: "billing",
    readiness: { sql: "select true" },
    tables: {
      plans: {
        schema: "billing",
        description: "Price plans per region; prices change now and then.",
        columns: { region: "text", plan: "text", monthly_price: "numeric(10,2)", modified_at: "timestamptz" },
        primaryKey: ["region", "plan"],
        extract: { mode: "history", cursor: "modified_at" },
      },
      charges: {
        schema: "billing",
        columns: { id: "bigint", region: "text", plan: "text", amount: "numeric(10,2)", charged_at: "timestamptz" },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "charged_at" },
      },
    },
  },
  warehouse: { kind: "postgres", connId: "dwh", schema: "billing_marts" },
  models: {
    stg_plans: {
      layer: "staging",
      description: "Plans as of the report day.",
      sql: (q) => `select region || '/' || plan as plan_key, monthly_price from ${q.current("plans")}`,
      columns: { plan_key: { tests: ["unique", "not_null"] }, monthly_price: {} },
    },
    stg_charges: {
      layer: "staging",
      sql: (q) => `select id, region || '/' || plan as plan_key, amount, ds from ${q.source("charges")}`,
      columns: {
        id: { tests: ["unique"] },
        plan_key: { tests: [{ relationships: { to: "stg_plans", field: "plan_key" } }] },
        amount: {},
        ds: {},
      },
    },
    fct_revenue: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => `select ds, sum(amount) as revenue from ${q.ref("stg_charges")} where ds = ${q.ds} group by ds`,
      columns: { ds: { tests: ["unique"] }, revenue: {} },
    },
  },
  report: {
    model: "fct_revenue",
    dayColumn: "ds",
    kpis: [{ column: "revenue", label: "Revenue", format: "currency" }],
    subject: "Subscription revenue {ds}",
    recipients: ["cfo@example.com"],
    currency: "EUR",
  },
});
