/**
 * The oracle for end-to-end tests: the report's KPIs computed straight from the source tables, with
 * plain SQL that shares nothing with the pipeline (no extract, no dbt model, no spec).
 *
 * For local day D in timezone TZ, with the day's instants [D 00:00 TZ, D+1 00:00 TZ):
 *   revenue = sum(amount) of orders created that day with status <> 'cancelled'
 *   orders  = count of those orders
 *   aov     = revenue / orders (null when there are none)
 *   dau     = distinct users with at least one event that day, optionally of the given types
 */
import type { Queryable } from "./database.ts";

export const SOURCE_KPIS_SQL = `
WITH day_bounds AS (
  SELECT ($1::date)::timestamp AT TIME ZONE $2::text AS day_start,
         ($1::date + 1)::timestamp AT TIME ZONE $2::text AS day_end
),
day_orders AS (
  SELECT coalesce(sum(o.amount), 0.00) AS revenue,
         count(*) AS orders
  FROM app.orders AS o, day_bounds AS b
  WHERE o.created_at >= b.day_start
    AND o.created_at < b.day_end
    AND o.status <> 'cancelled'
),
day_users AS (
  SELECT count(DISTINCT e.user_id) AS dau
  FROM app.events AS e, day_bounds AS b
  WHERE e.occurred_at >= b.day_start
    AND e.occurred_at < b.day_end
    AND ($3::text[] IS NULL OR e.event_type = ANY ($3::text[]))
)
SELECT o.revenue::text AS revenue,
       o.orders,
       (o.revenue / nullif(o.orders, 0))::text AS aov,
       u.dau
FROM day_orders AS o, day_users AS u`;

export interface SourceKpis {
  day: string;
  timezone: string;
  /** Exact numeric text, e.g. "1234.50". */
  revenue: string;
  orders: number;
  /** Exact numeric text of revenue / orders at PostgreSQL's numeric division scale; null with no orders. */
  aov: string | null;
  dau: number;
}

export interface SourceKpisQuery {
  /** Local day, YYYY-MM-DD. */
  day: string;
  /** IANA timezone of the day. */
  timezone: string;
  /** Count only users with events of these types towards dau. Default: every event type. */
  eventTypes?: readonly string[];
}

export async function sourceKpis(client: Queryable, q: SourceKpisQuery): Promise<SourceKpis> {
  const res = await client.query(SOURCE_KPIS_SQL, [q.day, q.timezone, q.eventTypes ? [...q.eventTypes] : null]);
  const row = res.rows[0] as { revenue: string; orders: string; aov: string | null; dau: string };
  return {
    day: q.day,
    timezone: q.timezone,
    revenue: row.revenue,
    orders: Number(row.orders),
    aov: row.aov,
    dau: Number(row.dau),
  };
}
