/**
 * Bounds of a local calendar day. PostgreSQL does the arithmetic with its IANA tz database, the
 * same rules the generator and the source KPI oracle use, so a DST day is 23 or 25 hours everywhere.
 */
import type { Queryable } from "./database.ts";
import { isIsoDay } from "./options.ts";

export interface LocalDayBounds {
  /** The local day, YYYY-MM-DD. */
  day: string;
  timezone: string;
  /** Local midnight starting the day, as an instant. */
  start: Date;
  /** Local midnight ending the day (exclusive), as an instant. */
  end: Date;
  /** end - start in hours: 24, or 23 / 25 on a DST change day. */
  hours: number;
}

/**
 * `(day::timestamp AT TIME ZONE tz)` reads a local wall-clock time as an instant, so local
 * midnight of `day` and of the next day bound it, whatever the clock does in between.
 */
export const LOCAL_DAY_BOUNDS_SQL = `
SELECT ($1::date)::timestamp AT TIME ZONE $2::text AS day_start,
       ($1::date + 1)::timestamp AT TIME ZONE $2::text AS day_end`;

export async function localDayBounds(client: Queryable, day: string, timezone: string): Promise<LocalDayBounds> {
  if (!isIsoDay(day)) throw new RangeError(`localDayBounds: day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const res = await client.query(LOCAL_DAY_BOUNDS_SQL, [day, timezone]);
  const row = res.rows[0] as { day_start: Date; day_end: Date };
  return {
    day,
    timezone,
    start: row.day_start,
    end: row.day_end,
    hours: (row.day_end.getTime() - row.day_start.getTime()) / 3_600_000,
  };
}
