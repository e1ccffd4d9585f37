/**
 * A scratch copy of the demo_shop source schema (the demo's own DDL, no rows) for the authoring
 * tests: `dagspec_vitest_authoring_<name>_<pid>` on DAGSPEC_TEST_PG_URL (default the local server),
 * dropped before use and after. The pid keeps test runs of several checkouts sharing one server
 * (each engineer's worktree, CI) from dropping each other's database. `pgAvailable()` lets a test file skip loudly when there is no server.
 */
import pg from "pg";
import { APP_INDEX_DDL, APP_TABLES_DDL } from "../../airflow/local/demo_shop/schema.ts";
import { dropDatabase } from "../../airflow/local/demo_shop/database.ts";

const SERVER = process.env.DAGSPEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432";

export function scratchUrl(name: string): string {
  const url = new URL(SERVER);
  url.pathname = `/dagspec_vitest_authoring_${name}_${process.pid}`;
  return url.toString();
}

export async function pgAvailable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: new URL("/postgres", SERVER).toString(), connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return null;
  } catch (err) {
    return `no PostgreSQL at ${SERVER} (${(err as Error).message}); run scripts/ensure-postgres.sh or set DAGSPEC_TEST_PG_URL`;
  }
}

export async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Creates the scratch database with demo_shop's `app` schema, keys and indexes. */
export async function createScratchSource(name: string): Promise<string> {
  const url = scratchUrl(name);
  await dropDatabase(url);
  const dbName = new URL(url).pathname.slice(1);
  await sql(new URL("/postgres", SERVER).toString(), `CREATE DATABASE "${dbName}"`);
  await sql(url, APP_TABLES_DDL);
  for (const ddl of APP_INDEX_DDL) await sql(url, ddl);
  return url;
}

export { dropDatabase };
