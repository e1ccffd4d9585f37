/** Connects, reads one schema's catalogue and closes: the only I/O of `gen introspect` and `--against`. */
import pg from "pg";
import { readCatalog, type CatalogTable } from "./catalog.ts";
import type { ResolvedConn } from "./conn.ts";

export class CatalogReadError extends Error {}

export async function withCatalogClient<T>(conn: ResolvedConn, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...conn.config, connectionTimeoutMillis: 10_000, application_name: "dagspec-introspect" });
  try {
    await client.connect();
  } catch (err) {
    throw new CatalogReadError(`cannot connect to ${conn.label}: ${(err as Error).message}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function readSchemas(conn: ResolvedConn, schemas: readonly string[]): Promise<Map<string, CatalogTable[]>> {
  return withCatalogClient(conn, async (client) => {
    const out = new Map<string, CatalogTable[]>();
    for (const s of [...new Set(schemas)].sort()) out.set(s, await readCatalog(client, s));
    return out;
  });
}
