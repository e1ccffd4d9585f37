/** `--conn` / `--against`: postgres URLs and Airflow connection ids read as Airflow reads them from the environment. */
import { describe, expect, it } from "vitest";
import { ConnError, resolveConn } from "../../src/introspect/conn.ts";

describe("resolveConn", () => {
  it("takes a postgres URL, keeping the password out of the label", () => {
    const c = resolveConn("postgresql://app:s%40cret@db.internal:6543/shop?sslmode=require&__extra__=%7B%7D", {});
    expect(c.config).toMatchObject({ host: "db.internal", port: 6543, user: "app", password: "s@cret", database: "shop" });
    expect(c.config.ssl).toEqual({ rejectUnauthorized: false });
    expect(c.label).toBe("app@db.internal:6543/shop");
  });

  it("reads AIRFLOW_CONN_<ID> as a URI or in Airflow's JSON form", () => {
    expect(resolveConn("app_db", { AIRFLOW_CONN_APP_DB: "postgres://u@h:5432/d" }).config).toMatchObject({ host: "h", database: "d", user: "u" });
    const j = resolveConn("app_db", { AIRFLOW_CONN_APP_DB: JSON.stringify({ conn_type: "postgres", host: "h2", port: 5433, login: "l", password: "p", schema: "shop" }) });
    expect(j.config).toMatchObject({ host: "h2", port: 5433, user: "l", password: "p", database: "shop" });
  });

  it("says what to set when the connection is unknown or not PostgreSQL", () => {
    expect(() => resolveConn("app_db", {})).toThrow(/set AIRFLOW_CONN_APP_DB/);
    expect(() => resolveConn("s3", { AIRFLOW_CONN_S3: JSON.stringify({ conn_type: "aws" }) })).toThrow(/conn_type aws; introspection reads PostgreSQL only/);
    expect(() => resolveConn("bad id!", {})).toThrow(ConnError);
  });
});
