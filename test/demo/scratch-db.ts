/**
 * Scratch databases for the demo tests: one per test file, named dagspec_vitest_demo_<name>_<pid>
 * (two checkouts testing at once on one server must not drop each other's), dropped before use and
 * after. DAGSPEC_TEST_PG_URL points the
 * tests at another server (default postgres://postgres@127.0.0.1:5432).
 */
import pg from "pg";
import { dropDatabase } from "../../airflow/local/demo_shop/database.ts";

const SERVER = process.env.DAGSPEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432";

export function scratchDatabaseUrl(name: string): string {
  const url = new URL(SERVER);
  url.pathname = `/dagspec_vitest_demo_${name}_${process.pid}`;
  return url.toString();
}

export async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}

export { dropDatabase };

/** A row count as a number (count(*) arrives as text). */
export async function scalar(client: pg.Client, sql: string, values: unknown[] = []): Promise<number> {
  const res = await client.query(sql, values);
  return Number(Object.values(res.rows[0] as object)[0]);
}
