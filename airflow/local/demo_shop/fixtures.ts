/**
 * Helpers for tests that need the source in a particular state: maintenance windows, watermarks,
 * and rows the generator would never write (negative amounts, orphan users, unknown statuses).
 */
import type { Queryable } from "./database.ts";
import { APP_TABLES, type AppTable } from "./schema.ts";

type Instant = Date | string;

export interface MaintenanceWindow {
  startsAt: Instant;
  /** null: open-ended, until clearMaintenance. */
  endsAt: Instant | null;
  reason?: string;
}

export async function setMaintenance(client: Queryable, w: MaintenanceWindow): Promise<void> {
  await client.query("INSERT INTO ops.maintenance (starts_at, ends_at, reason) VALUES ($1, $2, $3)", [
    w.startsAt,
    w.endsAt,
    w.reason ?? "test",
  ]);
}

/** Removes every maintenance window. */
export async function clearMaintenance(client: Queryable): Promise<void> {
  await client.query("DELETE FROM ops.maintenance");
}

/**
 * Sets the watermark of `tables` (default: every app table) to `completeThrough`, moving it back or
 * forward.
 */
export async function setWatermark(
  client: Queryable,
  completeThrough: Instant,
  tables: AppTable | readonly AppTable[] = APP_TABLES,
): Promise<void> {
  const list = typeof tables === "string" ? [tables] : [...tables];
  await client.query(
    `INSERT INTO ops.load_watermark (table_name, complete_through)
     SELECT unnest($1::text[]), $2::timestamptz
     ON CONFLICT (table_name) DO UPDATE SET complete_through = EXCLUDED.complete_through`,
    [list, completeThrough],
  );
}

/** Deletes watermarks (default: all), as on a source that has never been loaded. */
export async function clearWatermark(client: Queryable, tables: AppTable | readonly AppTable[] = APP_TABLES): Promise<void> {
  const list = typeof tables === "string" ? [tables] : [...tables];
  await client.query("DELETE FROM ops.load_watermark WHERE table_name = ANY($1::text[])", [list]);
}

type Id = number | bigint | string;

/** Next free id of an app table (max + 1); fine for tests, which insert one row at a time. */
async function nextId(client: Queryable, table: AppTable): Promise<string> {
  const res = await client.query(`SELECT (coalesce(max(id), 0) + 1)::text AS id FROM ${table}`);
  return res.rows[0].id as string;
}

export interface OrderRow {
  /** Default: max(id) + 1. */
  id?: Id;
  /** Any value: an id with no user is an orphan order. */
  userId: Id | null;
  /** Any value numeric(12,2) takes, negative included. */
  amount: number | string | null;
  /** Any text; the application writes placed, paid, shipped, cancelled, refunded. Default "placed". */
  status?: string | null;
  createdAt: Instant;
  /** Default: createdAt. */
  updatedAt?: Instant | null;
}

/** Inserts one order as given, with none of the generator's rules. Returns its id. */
export async function insertOrder(client: Queryable, o: OrderRow): Promise<string> {
  const id = o.id === undefined ? await nextId(client, "app.orders") : String(o.id);
  await client.query(
    `INSERT INTO app.orders (id, user_id, amount, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, o.userId === null ? null : String(o.userId), o.amount === null ? null : String(o.amount),
     o.status === undefined ? "placed" : o.status, o.createdAt, o.updatedAt === undefined ? o.createdAt : o.updatedAt],
  );
  return id;
}

export interface UserRow {
  id?: Id;
  email?: string | null;
  country?: string | null;
  createdAt: Instant;
  /** Default: `createdAt` (as the application sets it on insert). */
  updatedAt?: Instant;
}

export async function insertUser(client: Queryable, u: UserRow): Promise<string> {
  const id = u.id === undefined ? await nextId(client, "app.users") : String(u.id);
  await client.query("INSERT INTO app.users (id, email, country, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)", [
    id, u.email === undefined ? `user${id}@example.com` : u.email, u.country ?? null, u.createdAt, u.updatedAt ?? u.createdAt,
  ]);
  return id;
}

export interface EventRow {
  id?: Id;
  userId: Id | null;
  eventType: string | null;
  occurredAt: Instant;
}

export async function insertEvent(client: Queryable, e: EventRow): Promise<string> {
  const id = e.id === undefined ? await nextId(client, "app.events") : String(e.id);
  await client.query("INSERT INTO app.events (id, user_id, event_type, occurred_at) VALUES ($1, $2, $3, $4)", [
    id, e.userId === null ? null : String(e.userId), e.eventType, e.occurredAt,
  ]);
  return id;
}
