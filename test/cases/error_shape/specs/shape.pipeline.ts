import { definePipeline } from "dagspec";

// Field-shape errors (zod), each reported at its own line and column.
export default definePipeline({
  id: "Bad-Id",
  description: "Shape errors.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "Mars/Olympus_Mons", startDate: "2026-02-30", retries: -1 },
  source: {
    connId: "app db",
    readiness: { sql: "select true" },
    tables: {
      orders: {
        columns: { id: "bigint", amount: "money" as "text" },
        primaryKey: ["id"],
        extract: { mode: "snapshot" },
      },
    },
  },
  models: {
    stg_orders: { layer: "staging", sql: "select id, amount from {{ source('app', 'orders') }}", columns: { id: {}, amount: {} } },
  },
  report: {
    model: "stg_orders",
    dayColumn: "id",
    kpis: [{ column: "amount", label: "Amount", format: "currency" }],
    subject: "s",
    recipients: ["not-an-email"],
  },
});
