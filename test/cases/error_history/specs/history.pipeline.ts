import { definePipeline } from "dagspec";

// Dimensions kept as a history, each error at its own line and column: a cursor that is not
// declared, not a timestamptz or part of the key, a column or model with a generated name, a
// schedule reporting on its own day, and a model reading the change partitions through source().
export default definePipeline({
  id: "history_errors",
  description: "History errors.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "Europe/Paris", startDate: "2026-01-01", reportLagDays: 0 },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: {
      users: {
        columns: { id: "bigint", email: "text", changed_on: "date" },
        primaryKey: ["id"],
        extract: { mode: "history", cursor: "changed_on" },
      },
      accounts: {
        columns: { id: "bigint", name: "text" },
        primaryKey: ["id"],
        // Past the types (as plain JavaScript would be): the checker still names it.
        extract: { mode: "history", cursor: "updated_at" as "name" },
      },
      plans: {
        columns: { id: "bigint", valid_from: "date", updated_at: "timestamptz" },
        primaryKey: ["id", "updated_at"],
        extract: { mode: "history", cursor: "updated_at" },
      },
    },
  },
  models: {
    stg_users: {
      layer: "staging",
      sql: (q) => `select id, email from ${q.source("users")}`,
      columns: { id: {}, email: {} },
    },
    plans_current: {
      layer: "staging",
      sql: "select 1 as id",
      columns: { id: {} },
    },
    m: {
      layer: "marts",
      sql: "select count(*) as n, current_date as ds from {{ ref('stg_users') }}",
      columns: { n: {}, ds: {} },
    },
  },
  report: {
    model: "m",
    dayColumn: "ds",
    kpis: [{ column: "n", label: "Users", format: "count" }],
    subject: "s {ds}",
    recipients: ["a@example.com"],
  },
});
