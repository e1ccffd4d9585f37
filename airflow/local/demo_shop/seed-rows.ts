/**
 * INSERT ... SELECT statements that generate the app tables, each for a slice of the day plan (or
 * of the users who signed up before the window). Pure functions of (params, slice): the seeder may
 * run them in any order and on any number of connections.
 *
 * Each statement computes the expensive per-row values (the local-time conversions) once in an
 * inner subquery fenced with OFFSET 0; the outer query derives the rest from those columns.
 */
import { quoteLiteral } from "./database.ts";
import type { SeedParams } from "./options.ts";
import { SeededSql, Stream, stratifiedInstantSql } from "./random-sql.ts";
import { EXISTING_USERS_SPAN_DAYS, MAX_EVENTS_PER_SESSION, existingUsers } from "./seed-plan.ts";

/** A range of day_idx values, both ends included. */
export interface DaySlice {
  from: number;
  to: number;
}

/** Share of orders cancelled, and refunded, once their time has come (~5% and ~2%). */
export const CANCEL_SHARE = 0.05;
export const REFUND_SHARE = 0.02;

const COUNTRIES: ReadonlyArray<readonly [string, number]> = [
  ["US", 0.42], ["CA", 0.08], ["GB", 0.1], ["DE", 0.09], ["FR", 0.07],
  ["BR", 0.06], ["IN", 0.06], ["AU", 0.05], ["JP", 0.04], ["MX", 0.03],
];
const EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example"];

/** CASE expression picking a label by cumulative share of the uniform `u`. */
function pickByShare(u: string, choices: ReadonlyArray<readonly [string, number]>): string {
  let cum = 0;
  const whens = choices.slice(0, -1).map(([label, share]) => {
    cum += share;
    return `WHEN ${u} < ${cum.toFixed(6)} THEN ${quoteLiteral(label)}`;
  });
  return `CASE ${whens.join(" ")} ELSE ${quoteLiteral(choices[choices.length - 1]![0])} END`;
}

/**
 * A user id among the `poolExpr` users who signed up before the day began (ids 1..pool), skewed
 * towards recent sign-ups, who buy and browse more than dormant old accounts.
 */
function poolUserSql(rng: SeededSql, stream: number, key: string, poolExpr: string): string {
  return `(${poolExpr} - floor(${poolExpr} * power(${rng.uniform(stream, key)}, 1.5))::bigint)`;
}

/**
 * Share of users who change their profile (a new email) on a given day: each user's last change
 * is read at the end of the window, like an order's status, so `updated_at` is the time of that
 * change, or `created_at` for users who never changed anything since signing up.
 */
export const PROFILE_CHANGES_PER_DAY = 0.002;

/**
 * The users' final columns from an inner query providing id, email, country, created_at,
 * window_start and window_end: a user who was there for d days of the window has changed their
 * profile by its end with chance min(1, d * PROFILE_CHANGES_PER_DAY), at a uniform time of those
 * days (changes before the window are not modelled).
 */
function withProfileChangeSql(rng: SeededSql, inner: string): string {
  const since = `greatest(u.created_at, u.window_start)`;
  const days = `extract(epoch FROM (u.window_end - ${since})) / 86400.0`;
  const changed = `${rng.uniform(Stream.userChange, "u.id")} < least(1.0, ${days} * ${PROFILE_CHANGES_PER_DAY})`;
  const when = `${since} + ${rng.uniform(Stream.userChangeTime, "u.id")} * (u.window_end - ${since})`;
  return `
SELECT u.id,
       CASE WHEN ${changed} THEN replace(u.email, '@', '.new@') ELSE u.email END,
       u.country, u.created_at,
       CASE WHEN ${changed} THEN ${when} ELSE u.created_at END
FROM (${inner}
      OFFSET 0) AS u`;
}

function userColumnsSql(rng: SeededSql): string {
  const domains = `('{${EMAIL_DOMAINS.join(",")}}'::text[])[1 + floor(${EMAIL_DOMAINS.length} * ${rng.uniform(Stream.userDomain, "id")})::int]`;
  return `id, 'user' || id || '@' || ${domains} AS email, ${pickByShare(rng.uniform(Stream.userCountry, "id"), COUNTRIES)} AS country`;
}

/** Users with ids [fromId, toId] who signed up during the year before the window, evenly. */
export function existingUsersSql(p: SeedParams, fromId: number, toId: number): string {
  const rng = new SeededSql(p.seed);
  const total = existingUsers(p);
  const inner = `
      SELECT ${userColumnsSql(rng)},
             start.window_start - interval '${EXISTING_USERS_SPAN_DAYS} days'
               + ((id - 1 + ${rng.uniform(Stream.userCreated, "id")}) / ${total}.0) * interval '${EXISTING_USERS_SPAN_DAYS} days' AS created_at,
             start.window_start, start.window_end
      FROM (SELECT min(day_start) AS window_start, max(day_end) AS window_end FROM ops.demo_seed_day) AS start,
           generate_series(${fromId}::bigint, ${toId}::bigint) AS id`;
  return `
INSERT INTO app.users (id, email, country, created_at, updated_at)${withProfileChangeSql(rng, inner)}`;
}

/** Users who signed up on the days of `slice`, spread over each day by the hour-of-day curve. */
export function newUsersSql(p: SeedParams, slice: DaySlice): string {
  const rng = new SeededSql(p.seed);
  const createdAt = stratifiedInstantSql({
    rng, timeStream: Stream.userCreated, foldStream: Stream.userDstFold, keyExpr: "id",
    indexExpr: "id - d.first_user_id", countExpr: "d.n_new_users", day: "d", timezone: p.timezone, alias: "tod",
  });
  const inner = `
      SELECT ${userColumnsSql(rng)}, ${createdAt.instant} AS created_at,
             (SELECT min(day_start) FROM ops.demo_seed_day) AS window_start, d.window_end
      FROM ops.demo_seed_day AS d
      CROSS JOIN LATERAL generate_series(d.first_user_id, d.first_user_id + d.n_new_users - 1) AS id
      ${createdAt.from}
      WHERE d.day_idx BETWEEN ${slice.from} AND ${slice.to}`;
  return `
INSERT INTO app.users (id, email, country, created_at, updated_at)${withProfileChangeSql(rng, inner)}`;
}

/**
 * Orders of the days of `slice`, and one `purchase` event per order (same id, user and time), in
 * one statement so that the two agree by construction.
 *
 * Users come from those who signed up before the day began, so every user exists before their
 * orders. Amounts are log-normal (median ~$37, long tail, clamped to [0.99, 5000]). Each order's
 * life is decided up front: ~5% will be cancelled (60% within hours, the rest one to three days
 * later) and ~2% refunded (one to seven days after shipping); the rest are paid minutes after
 * placing and shipped half a day to 2.5 days later. The status is that life read at the end of the
 * window and updated_at the time of its last step, so the newest orders are still placed or paid,
 * and late cancellations and refunds update rows created days earlier.
 *
 * Three levels, each fenced with OFFSET 0 so that the planner does not inline a column into every
 * place it is used: draws, then the times of each step, then status and updated_at.
 */
export function ordersSql(p: SeedParams, slice: DaySlice): string {
  const rng = new SeededSql(p.seed);
  const u = (stream: number) => rng.uniform(stream, "o.id");
  const createdAt = stratifiedInstantSql({
    rng, timeStream: Stream.orderTime, foldStream: Stream.orderDstFold, keyExpr: "o.id",
    indexExpr: "o.id - d.first_order_id", countExpr: "d.n_orders", day: "d", timezone: p.timezone, alias: "tod",
  });
  const cents = `round(100 * exp(3.6 + 0.65 * ${rng.normal(Stream.orderAmountA, Stream.orderAmountB, "o.id")}))::bigint`;
  const draws = `
      SELECT o.id, d.window_end,
             ${poolUserSql(rng, Stream.orderUser, "o.id", "(d.first_user_id - 1)")} AS user_id,
             ${createdAt.instant} AS created_at,
             greatest(99, least(500000, ${cents})) AS cents,
             ${u(Stream.orderKind)} AS u_kind,
             ${u(Stream.orderPayDelay)} AS u_pay,
             ${u(Stream.orderShipDelay)} AS u_ship,
             ${u(Stream.orderLate)} AS u_late,
             ${u(Stream.orderEndDelay)} AS u_end
      FROM ops.demo_seed_day AS d
      CROSS JOIN LATERAL generate_series(d.first_order_id, d.first_order_id + d.n_orders - 1) AS o(id)
      ${createdAt.from}
      WHERE d.day_idx BETWEEN ${slice.from} AND ${slice.to}
      OFFSET 0`;
  const steps = `
    SELECT x.*,
           CASE WHEN u_kind < ${CANCEL_SHARE} THEN 'cancel'
                WHEN u_kind < ${(CANCEL_SHARE + REFUND_SHARE).toFixed(6)} THEN 'refund' END AS fate,
           paid_at,
           paid_at + (43200 + 172800 * u_ship) * interval '1 second' AS shipped_at,
           created_at + CASE WHEN u_late < 0.6 THEN (300 + 10800 * u_end) * interval '1 second'
                             ELSE (1 + 2 * u_end) * interval '1 day' END AS cancelled_at
    FROM (${draws}) AS x
    CROSS JOIN LATERAL (SELECT x.created_at + (120 + 3600 * u_pay * u_pay) * interval '1 second' AS paid_at) AS pay
    OFFSET 0`;
  const state = `
  SELECT s.*, CASE
      WHEN fate = 'cancel' AND cancelled_at <= window_end THEN 'cancelled'
      WHEN fate = 'refund' AND shipped_at + (1 + 6 * u_end) * interval '1 day' <= window_end THEN 'refunded'
      WHEN fate IS DISTINCT FROM 'cancel' AND shipped_at <= window_end THEN 'shipped'
      WHEN paid_at <= window_end THEN 'paid'
      ELSE 'placed'
    END AS status
  FROM (${steps}) AS s
  OFFSET 0`;
  return `
WITH inserted AS (
  INSERT INTO app.orders (id, user_id, amount, status, created_at, updated_at)
  SELECT id, user_id, cents * 0.01, status, created_at,
         CASE status
           WHEN 'cancelled' THEN cancelled_at
           WHEN 'refunded' THEN shipped_at + (1 + 6 * u_end) * interval '1 day'
           WHEN 'shipped' THEN shipped_at
           WHEN 'paid' THEN paid_at
           ELSE created_at
         END
  FROM (${state}) AS t
  RETURNING id, user_id, created_at
)
INSERT INTO app.events (id, user_id, event_type, occurred_at)
SELECT id, user_id, 'purchase', created_at FROM inserted`;
}

/**
 * Browsing sessions of the days of `slice`: 1 to 5 events each, a page_view first, then product
 * views, searches, add_to_cart and (abandoned) checkouts, 30 s to 2.5 min apart. A session that
 * would run past midnight starts earlier instead, so no event leaves its day (nor the watermark).
 * Event ids: MAX_EVENTS_PER_SESSION reserved per session, after the purchase events' ids.
 */
export function sessionEventsSql(p: SeedParams, slice: DaySlice): string {
  const rng = new SeededSql(p.seed);
  const per = MAX_EVENTS_PER_SESSION;
  const span = (per - 1) * 90 + 60;
  const start = stratifiedInstantSql({
    rng, timeStream: Stream.sessionTime, foldStream: Stream.sessionDstFold, keyExpr: "b.base",
    indexExpr: "g.idx", countExpr: "d.n_sessions", day: "d", timezone: p.timezone, alias: "tod",
  });
  const eventKey = "(s.base + e.j)";
  const type = pickByShare(rng.uniform(Stream.eventType, eventKey), [
    ["product_view", 0.45], ["page_view", 0.2], ["search", 0.15], ["add_to_cart", 0.15], ["checkout", 0.05],
  ]);
  return `
INSERT INTO app.events (id, user_id, event_type, occurred_at)
SELECT s.base + e.j, s.user_id,
       CASE WHEN e.j = 0 THEN 'page_view' ELSE ${type} END,
       s.started_at + (e.j * 90 + 60 * ${rng.uniform(Stream.eventJitter, eventKey)}) * interval '1 second'
FROM (
  SELECT t.*, CASE WHEN t.at + interval '${span} seconds' >= t.day_end
                   THEN t.at - interval '${span} seconds' ELSE t.at END AS started_at
  FROM (
    SELECT b.base, d.day_end,
           ${poolUserSql(rng, Stream.sessionUser, "b.base", "(d.first_user_id - 1)")} AS user_id,
           1 + floor(${per} * ${rng.uniform(Stream.sessionLength, "b.base")})::int AS n_events,
           ${start.instant} AS at
    FROM ops.demo_seed_day AS d
    CROSS JOIN LATERAL generate_series(0, d.n_sessions - 1) AS g(idx)
    CROSS JOIN LATERAL (SELECT d.first_session_event_id + ${per} * (d.first_session + g.idx) AS base) AS b
    ${start.from}
    WHERE d.day_idx BETWEEN ${slice.from} AND ${slice.to}
    OFFSET 0
  ) AS t
  OFFSET 0
) AS s
CROSS JOIN LATERAL generate_series(0, s.n_events - 1) AS e(j)`;
}
