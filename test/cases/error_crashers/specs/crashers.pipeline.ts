import { definePipeline } from "dagspec";

// Past crashers: each once ended in a stack trace (exit 1, no location) and is now a diagnostic at
// its field: SQL the parser accepts but the formatter rejects (backtick identifiers), a Unicode line
// separator in a comment, a broken {% else %} branch (never parsed: only the first branch was), a SQL
// `file` that is a folder, readiness SQL that was never parsed; a spec that throws while it runs.
export default definePipeline({
  id: "crashers",
  description: "Inputs that used to crash the compiler.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  sla: { deliverBy: "07:00", pagerduty: { connId: "pd" }, engineers: ["ops@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select from where %(report_day)s" },
    tables: { t: { columns: { id: "bigint", note: "text" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: {
    backticks: { layer: "staging", sql: "select `ds` from {{ source('app', 't') }}", columns: { ds: {} } },
    separator: { layer: "staging", sql: "select ds -- a comment\u2028with a line separator\nfrom {{ source('app', 't') }}", columns: { ds: {} } },
    after_else: {
      layer: "staging",
      sql: "select ds from {{ source('app', 't') }} {% if is_incremental() %} where true {% else %} where {% endif %}",
      columns: { ds: {} },
    },
    folder: { layer: "marts", sql: { file: "sql/a_folder.sql" }, columns: { ds: {} } },
  },
  report: { model: "folder", dayColumn: "ds", kpis: [{ column: "ds", label: "Day", format: "count" }], subject: "Daily", recipients: ["a@example.com"] },
});
