/**
 * False positives of DS1208 (source columns read) and DS1220 (declared columns selected): columns
 * of a lateral function's alias, PostgreSQL's paren-less value functions and unquoted names in
 * another case are no undeclared columns; quoted names keep their case and stay reported.
 */
import { describe, expect, it } from "vitest";
import { diagnose, SRC } from "./column-spec.ts";

const cols = (...names: string[]) => Object.fromEntries(names.map((n) => [n, {}]));

describe("DS1208: columns of a lateral function's alias", () => {
  it("builds clean when the column comes from unnest(...) as u(v) or a relation alias's column list", async () => {
    const d = await diagnose({
      stg: { sql: `select v, ds from ${SRC}, unnest(array[id, id]) as u(v)`, columns: cols("v", "ds") },
      stg_lateral: { sql: `select o.id, v, ds from ${SRC} as o cross join lateral unnest(array[o.amount]) as u(v)`, columns: cols("id", "v", "ds") },
      stg_fn: { sql: `select n, ds from ${SRC}, generate_series(1, 3) as n`, columns: cols("n", "ds") },
      stg_renamed: { sql: `select a2, ds from ${SRC} as t(a2)`, columns: cols("a2", "ds") },
    });
    expect(d).toEqual([]);
  });

  it("still reports an undeclared column qualified with the source's alias next to a lateral function", async () => {
    const d = await diagnose({
      stg: { sql: `select o.discount as x, v, ds from ${SRC} as o, unnest(array[o.id]) as u(v)`, columns: cols("x", "v", "ds") },
    });
    expect(d).toEqual(["DS1208 models.stg.sql"]);
  });
});

describe("DS1208: PostgreSQL's paren-less value functions", () => {
  it("builds clean on current_date, localtimestamp, user, ... read without parentheses", async () => {
    // current_user and session_user are left out: node-sql-parser does not parse them (DS1207).
    const fns = ["current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "user", "current_role", "current_catalog", "current_schema"];
    const d = await diagnose({
      stg: { sql: `select ${fns.map((f, i) => `${f} as f${i}`).join(", ")}, id, ds from ${SRC} where created_at < current_timestamp`, columns: cols(...fns.map((_, i) => `f${i}`), "id", "ds") },
      stg_bare: { sql: `select localtimestamp, ds from ${SRC}`, columns: cols("localtimestamp", "ds") },
    });
    expect(d).toEqual([]);
  });

  it("still reports a quoted \"user\" or a qualified o.localtimestamp, which are columns", async () => {
    const d = await diagnose({
      stg: { sql: `select "user" as u, ds from ${SRC}`, columns: cols("u", "ds") },
      stg_q: { sql: `select o.localtimestamp as t, ds from ${SRC} as o`, columns: cols("t", "ds") },
    });
    expect(d).toEqual(["DS1208 models.stg.sql", "DS1208 models.stg_q.sql"]);
  });
});

describe("DS1208/DS1220: unquoted names fold to lower case, quoted names do not", () => {
  it("builds clean on upper- and mixed-case unquoted columns and aliases", async () => {
    const d = await diagnose({
      stg: { sql: `select AMOUNT, O.Id, amount as Total, DS from ${SRC} as o`, columns: cols("amount", "id", "total", "ds") },
      stg_quoted: { sql: `select "amount", amount as "total", ds from ${SRC}`, columns: cols("amount", "total", "ds") },
      int: { sql: "select AMOUNT, Total as T, ds from {{ ref('stg') }}", columns: cols("amount", "t", "ds"), layer: "intermediate" },
    });
    expect(d).toEqual([]);
  });

  it("reports a quoted upper-case column or alias, which PostgreSQL does not fold", async () => {
    const d = await diagnose({
      stg: { sql: `select "AMOUNT", ds from ${SRC}`, columns: cols("amount", "ds") },
      stg_alias: { sql: `select amount as "Total", ds from ${SRC}`, columns: cols("total", "ds") },
    });
    expect(d).toEqual(["DS1208 models.stg.sql", "DS1220 models.stg.columns.amount", "DS1220 models.stg_alias.columns.total"]);
  });
});
