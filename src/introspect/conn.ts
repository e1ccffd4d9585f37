/**
 * `--conn` / `--against`: a postgres:// URL, or an Airflow connection id looked up the way Airflow
 * itself reads connections from the environment (`AIRFLOW_CONN_<ID>`, a URI or JSON). The result is
 * a node-postgres config; the password never appears in messages (see `describeConn`).
 */
import type pg from "pg";

export interface ResolvedConn {
  config: pg.ClientConfig;
  /** Safe to print: user@host:port/database, no password. */
  label: string;
}

export class ConnError extends Error {}

const URL_RE = /^postgres(ql)?:\/\//i;

export function envVarFor(connId: string): string {
  return `AIRFLOW_CONN_${connId.toUpperCase()}`;
}

export function resolveConn(conn: string, env: NodeJS.ProcessEnv = process.env): ResolvedConn {
  if (URL_RE.test(conn)) return fromUrl(conn);
  if (!/^[A-Za-z0-9_.-]{1,250}$/.test(conn)) throw new ConnError(`--conn '${conn}' is neither a postgres:// URL nor an Airflow connection id`);
  const value = env[envVarFor(conn)];
  if (!value) {
    throw new ConnError(
      `connection '${conn}' is not defined here: set ${envVarFor(conn)} (a postgres:// URI or Airflow's JSON form), or pass a postgres:// URL`,
    );
  }
  if (value.trim().startsWith("{")) return fromJson(conn, value);
  if (URL_RE.test(value)) return fromUrl(value);
  throw new ConnError(`${envVarFor(conn)} is not a postgres connection (expected postgres://... or JSON with conn_type postgres)`);
}

function fromUrl(raw: string): ResolvedConn {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConnError("the connection URL does not parse");
  }
  const config: pg.ClientConfig = {
    host: decodeURIComponent(url.hostname) || "127.0.0.1",
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, "")) || undefined,
  };
  // Airflow URIs carry extras as query parameters; only sslmode means something to the driver.
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode && sslmode !== "disable") config.ssl = sslmode === "require" ? { rejectUnauthorized: false } : true;
  return { config, label: label(config) };
}

function fromJson(connId: string, raw: string): ResolvedConn {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new ConnError(`${envVarFor(connId)} is not valid JSON`);
  }
  const type = String(j.conn_type ?? "postgres");
  if (!/^postgres(ql)?$/.test(type)) throw new ConnError(`connection '${connId}' has conn_type ${type}; introspection reads PostgreSQL only`);
  const config: pg.ClientConfig = {
    host: typeof j.host === "string" ? j.host : "127.0.0.1",
    port: j.port === undefined ? 5432 : Number(j.port),
    user: typeof j.login === "string" ? j.login : undefined,
    password: typeof j.password === "string" ? j.password : undefined,
    database: typeof j.schema === "string" ? j.schema : undefined,
  };
  return { config, label: label(config) };
}

function label(c: pg.ClientConfig): string {
  return `${c.user ? `${c.user}@` : ""}${c.host}:${c.port}/${c.database ?? ""}`;
}
