import { definePipeline } from "dagspec";

// Three layers (staging -> intermediate -> marts), several KPI formats, SQL in files, expression
// and warn-severity tests.
export default definePipeline({
  id: "marketing_funnel",
  description: "Daily funnel conversion and spend efficiency.",
  owner: "growth",
  tags: ["marketing", "funnel"],
  schedule: { cron: "15 5 * * *", timezone: "America/Los_Angeles", startDate: "2026-03-01", maxActiveRuns: 3 },
  sla: {
    deliverBy: "09:30",
    atRiskLeadMinutes: 45,
    pagerduty: { connId: "pd_growth", severity: "error" },
    engineers: ["growth-data@example.com", "oncall@example.com"],
  },
  source: {
    connId: "marketing_db",
    name: "mkt",
    readiness: {
      sql: "select count(*) > 0 from ops.batches where batch_day = %(report_day)s::date and status = 'done'",
      pokeIntervalSeconds: 120,
      timeoutMinutes: 180,
    },
    tables: {
      sessions: {
        schema: "web",
        columns: { session_id: "uuid", visitor_id: "uuid", channel: "text", started_at: "timestamptz" },
        primaryKey: ["session_id"],
        extract: { mode: "incremental", cursor: "started_at" },
      },
      signups: {
        schema: "web",
        columns: { signup_id: "bigint", session_id: "uuid", signed_up_at: "timestamptz" },
        primaryKey: ["signup_id"],
        extract: { mode: "incremental", cursor: "signed_up_at" },
      },
      spend: {
        schema: "ads",
        columns: { spend_day: "date", channel: "text", amount: "numeric(14,2)" },
        primaryKey: ["spend_day", "channel"],
        extract: { mode: "incremental", cursor: "spend_day" },
      },
    },
  },
  models: {
    stg_sessions: {
      layer: "staging",
      sql: { file: "sql/stg_sessions.sql" },
      columns: { session_id: { tests: ["unique", "not_null"] }, visitor_id: {}, channel: {}, ds: {} },
    },
    stg_signups: {
      layer: "staging",
      sql: (q) => `select signup_id, session_id, ds from ${q.source("signups")}`,
      columns: {
        signup_id: { tests: ["unique"] },
        session_id: { tests: [{ relationships: { to: "stg_sessions", field: "session_id", severity: "warn" } }] },
        ds: {},
      },
    },
    stg_spend: {
      layer: "staging",
      sql: (q) => `select channel, amount, ds from ${q.source("spend")}`,
      columns: {
        channel: { tests: [{ accepted_values: { values: ["search", "social", "email"] } }] },
        amount: { tests: [{ expression: { name: "spend_not_negative", sql: "{column} >= 0" } }] },
        ds: {},
      },
    },
    int_channel_day: {
      layer: "intermediate",
      description: "Sessions, signups and spend per channel and day.",
      sql: { file: "sql/int_channel_day.sql" },
      columns: { ds: {}, channel: {}, sessions: {}, signups: {}, spend: {} },
    },
    fct_funnel: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => `
        select ds, sum(sessions) as sessions, sum(signups) as signups,
               sum(signups)::numeric / nullif(sum(sessions), 0) as conversion,
               sum(spend) / nullif(sum(signups), 0) as cost_per_signup
        from ${q.ref("int_channel_day")}
        ${q.ifIncremental(`where ds = ${q.ds}`)}
        group by ds`,
      columns: {
        ds: { tests: ["unique", "not_null"] },
        sessions: {},
        signups: {},
        conversion: { description: "Signups per session.", tests: [{ expression: { name: "conversion_is_a_share", sql: "{column} between 0 and 1", severity: "warn" } }] },
        cost_per_signup: {},
      },
    },
  },
  tests: {
    assert_spend_recorded: {
      description: "Every channel reported spend for the day.",
      severity: "warn",
      sql: { file: "sql/assert_spend_recorded.sql" },
    },
  },
  report: {
    model: "fct_funnel",
    dayColumn: "ds",
    kpis: [
      { column: "sessions", label: "Sessions", format: "count" },
      { column: "signups", label: "Signups", format: "count" },
      { column: "conversion", label: "Conversion", format: "percent" },
      { column: "cost_per_signup", label: "Cost per signup", format: "currency" },
    ],
    subject: "Funnel for {ds}",
    recipients: ["cmo@example.com"],
    smtpConnId: "smtp_marketing",
  },
});
