import { definePipeline } from "dagspec";

// Text that reaches Python, YAML and SQL carries quotes, triple quotes, backslashes and YAML/Markdown
// specials: the generated files must stay valid and carry the text unchanged.
const TRICKY = `Revenue "gross" & 'net' \\ ends with a backslash: """triple""" ''' # not a comment: {braces} \\n`;

export default definePipeline({
  id: "tricky_text",
  description: TRICKY,
  owner: "data-oneil",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  sla: { deliverBy: "07:00", pagerduty: { connId: "pd.main-1" }, engineers: ["o'neil@example.com"] },
  source: {
    connId: "app_db",
    readiness: { sql: "select 'it''s ready' is not null and %(report_day)s::date < now() -- \"\"\" \\" },
    tables: {
      t: { description: TRICKY, columns: { id: "bigint", note: "text" }, primaryKey: ["id"], extract: { mode: "snapshot" } },
    },
  },
  models: {
    m: {
      layer: "marts",
      description: TRICKY,
      sql: "select ds, count(*) as n, max(note) as note from {{ source('app', 't') }} where note <> '\"\"\"' group by ds",
      columns: {
        ds: { description: TRICKY },
        n: {},
        // On the text column: `it's` compared with a count is a type error on PostgreSQL and DuckDB.
        note: { tests: [{ accepted_values: { values: ["it's", 'say "hi"', 3] } }] },
      },
    },
  },
  report: {
    model: "m",
    dayColumn: "ds",
    kpis: [{ column: "n", label: `Rows "n" \\ 'count'`, format: "count" }],
    subject: `Report "{ds}" \\ 'daily'`,
    // Braces Jinja would evaluate (the checker refuses them in the subject, not in an address): the
    // operators must show them as written.
    recipients: ["a@example.com", "{{7*7}}@example.com"],
  },
});
