/**
 * The source's readiness signal, as the SqlSensor of a generated DAG checks it.
 *
 * The sensor runs READINESS_SQL through psycopg with named parameters:
 *   report_day  'YYYY-MM-DD'                  the local day the run reports on
 *   day_start   ISO UTC timestamp             start of that local day
 *   day_end     ISO UTC timestamp             end of that local day (exclusive)
 * and treats a truthy first cell as ready. Only day_end is needed today; psycopg ignores unused
 * keys, so the sensor may always pass all three.
 */
import type { Queryable } from "./database.ts";
import { localDayBounds } from "./local-day.ts";
import { APP_TABLES } from "./schema.ts";

const tableList = APP_TABLES.map((t) => `('${t}')`).join(", ");

/**
 * Ready iff no maintenance window covers now() (starts_at <= now() < ends_at; a NULL ends_at is
 * open-ended) and every app table has a watermark at or after the end of the report day. A missing
 * watermark row means not ready: the list of tables is fixed here rather than read from the catalog,
 * where a table the sensor's role cannot see would silently drop out of the check.
 * No literal '%' anywhere: psycopg would read it as a placeholder.
 */
export const READINESS_SQL = `SELECT
  NOT EXISTS (
    SELECT 1
    FROM ops.maintenance AS m
    WHERE m.starts_at <= now() AND (m.ends_at IS NULL OR now() < m.ends_at)
  )
  AND NOT EXISTS (
    SELECT 1
    FROM (VALUES ${tableList}) AS t (table_name)
    LEFT JOIN ops.load_watermark AS w ON w.table_name = t.table_name
    WHERE w.complete_through IS NULL OR w.complete_through < %(day_end)s::timestamptz
  ) AS ready`;

export interface ReadinessParams {
  report_day: string;
  day_start: string;
  day_end: string;
}

/**
 * Rewrites psycopg's `%(name)s` placeholders as node-postgres' `$n` (and `%%` as `%`), so tests
 * run the very text the sensor runs.
 */
export function toPositional(sql: string, params: Record<string, unknown>): { text: string; values: unknown[] } {
  const names: string[] = [];
  const text = sql.replace(/%%|%\((\w+)\)s/g, (match, name: string | undefined) => {
    if (match === "%%") return "%";
    if (!(name! in params)) throw new Error(`no value for the parameter %(${name})s`);
    let i = names.indexOf(name!);
    if (i < 0) i = names.push(name!) - 1;
    return `$${i + 1}`;
  });
  return { text, values: names.map((n) => params[n]) };
}

/** The parameters the sensor passes for `reportDay` in `timezone`. */
export async function readinessParams(client: Queryable, reportDay: string, timezone: string): Promise<ReadinessParams> {
  const b = await localDayBounds(client, reportDay, timezone);
  return { report_day: reportDay, day_start: b.start.toISOString(), day_end: b.end.toISOString() };
}

/** Runs READINESS_SQL for `reportDay` like the sensor does; true when the source is ready. */
export async function checkReadiness(client: Queryable, reportDay: string, timezone: string): Promise<boolean> {
  const params = await readinessParams(client, reportDay, timezone);
  const { text, values } = toPositional(READINESS_SQL, { ...params });
  const res = await client.query(text, values);
  return Boolean(res.rows[0]?.ready);
}
