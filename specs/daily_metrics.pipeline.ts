/**
 * The morning report: yesterday's revenue, orders, average order value and daily active users,
 * in the CEO's inbox by 08:00 New York time.
 */
import { definePipeline } from "dagspec";

/**
 * The single, explicit definition of an active user: a user with at least one event of these types
 * on the day. `"any"` counts every event type.
 */
const ACTIVE_USER_EVENT_TYPES = "any" as readonly string[] | "any";

function activeUserFilter(types: readonly string[] | "any"): string {
  return types === "any" ? "true" : `event_type in (${types.map((t) => `'${t}'`).join(", ")})`;
}

export default definePipeline({
  id: "daily_metrics_pipeline",
  description: "Daily executive metrics: revenue, orders, average order value and daily active users.",
  owner: "data-platform",
  tags: ["executive", "kpi"],
  schedule: {
    cron: "0 6 * * *",
    timezone: "America/New_York",
    startDate: "2026-09-01",
    retries: 2,
    retryDelayMinutes: 5,
    maxActiveRuns: 4,
    reportLagDays: 1,
  },
  sla: {
    deliverBy: "08:00",
    atRiskLeadMinutes: 30,
    pagerduty: { connId: "pagerduty_default", severity: "critical" },
    engineers: ["data-eng@example.com"],
  },
  source: {
    connId: "app_db",
    name: "app",
    readiness: {
      // Ready when no maintenance window is open (a NULL end is open-ended) and every table's load
      // watermark has reached the end of the report day: the day's data is complete. A missing
      // watermark row means not ready.
      sql: `
        select
          not exists (
            select 1 from ops.maintenance as m
            where m.starts_at <= now() and (m.ends_at is null or now() < m.ends_at)
          )
          and not exists (
            select 1
            from (values ('app.users'), ('app.orders'), ('app.events')) as t (table_name)
            left join ops.load_watermark as w on w.table_name = t.table_name
            where w.complete_through is null or w.complete_through < %(day_end)s::timestamptz
          ) as ready
      `,
      pokeIntervalSeconds: 300,
      timeoutMinutes: 90,
    },
    tables: {
      users: {
        schema: "app",
        description: "Registered users.",
        columns: { id: "bigint", email: "text", country: "text", created_at: "timestamptz", updated_at: "timestamptz" },
        primaryKey: ["id"],
        // A few thousand of a million users change a day: copy those, not the whole table, and
        // keep every version in users_history (the app sets updated_at on every write).
        extract: { mode: "history", cursor: "updated_at" },
      },
      orders: {
        schema: "app",
        description: "Orders as placed in the shop, with their current status.",
        columns: {
          id: "bigint",
          user_id: "bigint",
          amount: "numeric(12,2)",
          status: "text",
          created_at: "timestamptz",
          updated_at: "timestamptz",
        },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "created_at" },
      },
      events: {
        schema: "app",
        description: "Product events (page views, carts, checkouts...).",
        columns: { id: "bigint", user_id: "bigint", event_type: "text", occurred_at: "timestamptz" },
        primaryKey: ["id"],
        extract: { mode: "incremental", cursor: "occurred_at" },
      },
    },
  },
  lake: { kind: "local", path: "daily_metrics_pipeline" },
  warehouse: { kind: "duckdb", path: "daily_metrics_pipeline.duckdb" },
  models: {
    stg_users: {
      layer: "staging",
      description: "Users as of the report day.",
      sql: (q) => `
        select id as user_id, email, country, created_at
        from ${q.current("users")}
      `,
      columns: {
        user_id: { description: "User id.", tests: ["unique", "not_null"] },
        email: { description: "Login email." },
        country: { description: "ISO country code." },
        created_at: { description: "Sign-up time." },
      },
    },
    stg_orders: {
      layer: "staging",
      description: "One row per order, partitioned by the local day it was created (ds).",
      sql: (q) => `
        select id as order_id, user_id, amount, status, created_at, updated_at, ds
        from ${q.source("orders")}
      `,
      columns: {
        order_id: { description: "Order id.", tests: ["unique", "not_null"] },
        user_id: {
          description: "The ordering user.",
          tests: ["not_null", { relationships: { to: "stg_users", field: "user_id" } }],
        },
        amount: { description: "Order value in USD.", tests: ["not_null"] },
        status: {
          description: "Current status.",
          tests: [{ accepted_values: { values: ["placed", "paid", "shipped", "cancelled", "refunded"] } }],
        },
        created_at: { description: "When the order was placed." },
        updated_at: { description: "Last status change." },
        ds: { description: "Local calendar day the order was created." },
      },
    },
    stg_events: {
      layer: "staging",
      description: "Product events, partitioned by the local day they occurred (ds).",
      sql: (q) => `
        select id as event_id, user_id, event_type, occurred_at, ds
        from ${q.source("events")}
      `,
      columns: {
        event_id: { description: "Event id.", tests: ["unique", "not_null"] },
        user_id: { description: "Acting user.", tests: ["not_null"] },
        event_type: { description: "What happened." },
        occurred_at: { description: "When it happened." },
        ds: { description: "Local calendar day of the event." },
      },
    },
    fct_daily_metrics: {
      layer: "marts",
      description: "One row per report day with the executive KPIs.",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => `
        with day_orders as (
          select ds, sum(amount) as revenue, count(*) as orders
          from ${q.ref("stg_orders")}
          where status <> 'cancelled' ${q.ifIncremental(`and ds = ${q.ds}`)}
          group by ds
        ),
        day_users as (
          select ds, count(distinct user_id) as dau
          from ${q.ref("stg_events")}
          where ${activeUserFilter(ACTIVE_USER_EVENT_TYPES)} ${q.ifIncremental(`and ds = ${q.ds}`)}
          group by ds
        )
        select
          coalesce(o.ds, u.ds) as ds,
          coalesce(o.revenue, 0) as revenue,
          coalesce(o.orders, 0) as orders,
          case when o.orders > 0 then round(o.revenue / o.orders, 2) end as aov,
          coalesce(u.dau, 0) as dau
        from day_orders as o
        full outer join day_users as u on u.ds = o.ds
      `,
      columns: {
        ds: { description: "Report day (America/New_York).", tests: ["unique", "not_null"] },
        revenue: { description: "Sum of amounts of the day's orders that are not cancelled.", tests: ["not_null"] },
        orders: { description: "Count of the day's orders that are not cancelled.", tests: ["not_null"] },
        aov: { description: "Average order value: revenue / orders." },
        dau: { description: "Distinct users with at least one active-user event that day." },
      },
    },
  },
  tests: {
    assert_positive_revenue: {
      description: "Every order of the report day has a positive amount: a negative one is a logging bug.",
      sql: (q) => `
        select order_id, amount
        from ${q.ref("stg_orders")}
        where ds = ${q.ds} and amount <= 0
      `,
    },
  },
  report: {
    model: "fct_daily_metrics",
    dayColumn: "ds",
    kpis: [
      { column: "revenue", label: "Revenue", format: "currency" },
      { column: "orders", label: "Orders", format: "count" },
      { column: "aov", label: "Average order value", format: "currency" },
      { column: "dau", label: "Daily active users", format: "count" },
    ],
    subject: "Daily metrics for {ds}",
    recipients: ["ceo@example.com", "exec-team@example.com"],
    smtpConnId: "smtp_default",
    currency: "USD",
  },
});
