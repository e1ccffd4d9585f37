/**
 * DS1227 (accepted values that are not literals of the column's traced type) and DS1228 (columns a
 * ref()'d model does not select): each fires on the SQL PostgreSQL refuses, and stays silent on
 * valid specs of every shape it cannot resolve exactly.
 */
import { describe, expect, it } from "vitest";
import { diagnose, SRC } from "./column-spec.ts";

const values = (...v: (string | number)[]) => ({ tests: [{ accepted_values: { values: v } }] });

describe("DS1227: accepted values against the column's traced type", () => {
  it("flags values a bigint, boolean, uuid or timestamptz column cannot compare with, at the value", async () => {
    const d = await diagnose({
      stg: {
        sql: `select id as order_id, paid, token, created_at, ds from ${SRC} as o`,
        columns: { order_id: values(1, "USD"), paid: values("yes", "maybe"), token: values("x"), created_at: values("soon"), ds: {} },
      },
    });
    expect(d).toEqual([
      "DS1227 models.stg.columns.order_id.tests.0.accepted_values.values.1",
      "DS1227 models.stg.columns.paid.tests.0.accepted_values.values.1",
      "DS1227 models.stg.columns.token.tests.0.accepted_values.values.0",
      "DS1227 models.stg.columns.created_at.tests.0.accepted_values.values.0",
    ]);
  });

  it("follows the type through ref() chains of bare columns", async () => {
    const d = await diagnose({
      fct: { sql: "select ds, oid from {{ ref('int') }}", columns: { ds: {}, oid: values("EUR") } },
      int: { sql: "select i.ds, i.id as oid from {{ ref('stg') }} i", columns: { ds: {}, oid: {} } },
      stg: { sql: `select id, ds from ${SRC}`, columns: { id: {}, ds: {} } },
    });
    expect(d).toEqual(["DS1227 models.fct.columns.oid.tests.0.accepted_values.values.0"]);
  });

  it("knows the types of the models the compiler writes for a history table", async () => {
    const d = await diagnose({
      cur: { sql: "select plan, price as p, ds from {{ ref('plans_current') }} cross join (select current_date as ds) d", columns: { plan: {}, p: {}, ds: {} } },
      hist: { sql: "select plan, price, is_current, valid_from from {{ ref('plans_history') }}", columns: { plan: values(1), price: values("free"), is_current: values("yes", "sometimes"), valid_from: values("2026-01-01 00:00+00") } },
      single: { sql: "select plan, price from {{ ref('plans_current') }}", columns: { plan: {}, price: values("free") } },
    });
    expect(d).toEqual([
      "DS1227 models.hist.columns.price.tests.0.accepted_values.values.0",
      "DS1227 models.hist.columns.is_current.tests.0.accepted_values.values.1",
      "DS1227 models.single.columns.price.tests.0.accepted_values.values.0",
    ]);
  });

  it("stays silent on values of the type, and where the type cannot be traced", async () => {
    const d = await diagnose({
      stg: {
        sql: `select id, amount, paid, token, created_at, currency, tags, ds from ${SRC}`,
        columns: {
          id: values(" 12 ", -3, "9223372036854775807"),
          amount: values("12.50", 3, "NaN", "1e+21"),
          paid: values("t", " YES ", "off", 0),
          token: values("{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}"),
          created_at: values("today", "2026-02-28 10:00+01", "Jan 8 2026"),
          currency: values("USD", 42),
          tags: values("not json"),
          ds: values("2024-02-29", "infinity"),
        },
      },
      // A cast, an expression, a join, a CTE, an incremental model whose renderings differ: not traced.
      casts: { sql: `select id::text as id, amount * 2 as twice, ds from ${SRC}`, columns: { id: values("USD"), twice: values("x"), ds: {} } },
      joined: {
        sql: `select o.id, u.name, o.ds from ${SRC} o join {{ source('app', 'users') }} u on u.id = o.id`,
        columns: { id: values("USD"), name: {}, ds: {} },
      },
      cte: { sql: `with o as (select id::text as id, ds from ${SRC}) select id, ds from o`, columns: { id: values("USD"), ds: {} } },
      star: { sql: "select * from {{ ref('casts') }}", columns: { id: values("USD") } },
    });
    expect(d).toEqual([]);
  });
});

describe("DS1228: columns read from a ref()'d model", () => {
  const stg = { sql: `select id as order_id, amount, ds from ${SRC}`, columns: { order_id: {}, amount: {}, ds: {} } };

  it("flags an unqualified or qualified column the model does not select, in a model or a test", async () => {
    const d = await diagnose(
      {
        fct: { sql: "select s.ds, sum(s.amount_usd) as revenue from {{ ref('stg') }} s where id > 0 group by s.ds", columns: { ds: {}, revenue: {} } },
        stg,
      },
      { t: { sql: "select order_id from {{ ref('stg') }} where refunded" } },
    );
    // fct reads amount_usd and id (stg selects it as order_id); the test reads refunded.
    expect(d).toEqual(["DS1228 models.fct.sql", "DS1228 models.fct.sql", "DS1228 tests.t.sql"]);
  });

  it("reads the columns of the models the compiler writes for a history table (q.current)", async () => {
    const d = await diagnose({
      stg,
      cur: { sql: "select plan, monthly_price from {{ ref('plans_current') }}", columns: { plan: {}, monthly_price: {} } },
      hist: { sql: "select plan, valid_to, first_seen_ds, ds from {{ ref('plans_history') }}", columns: { plan: {}, valid_to: {}, first_seen_ds: {}, ds: {} } },
    });
    // plans_current has no ds (it is a view of the rows as of the day); plans_history has first_seen_ds.
    expect(d).toEqual(["DS1228 models.cur.sql", "DS1228 models.hist.sql"]);
  });

  it("stays silent on aliases, quoted names, joins, CTEs, subqueries, lateral functions and select *", async () => {
    const d = await diagnose({
      stg,
      aliased: { sql: "select ds, sum(amount) as total from {{ ref('stg') }} group by ds order by total", columns: { ds: {}, total: {} } },
      quoted: { sql: 'select "ds", "order_id" as oid, AMOUNT as amt from {{ ref(\'stg\') }} as S where S.Order_Id > 0', columns: { ds: {}, oid: {}, amt: {} } },
      joined: {
        sql: `select s.ds, o.currency from {{ ref('stg') }} s join ${SRC} o on o.id = s.order_id`,
        columns: { ds: {}, currency: {} },
      },
      cte: { sql: "with stg as (select ds, 1 as extra from {{ ref('stg') }}) select ds, extra from stg", columns: { ds: {}, extra: {} } },
      sub: { sql: "select ds, x from (select ds, order_id as x from {{ ref('stg') }}) s", columns: { ds: {}, x: {} } },
      lateral: { sql: "select ds, v from {{ ref('stg') }}, unnest(array[1, 2]) as u(v)", columns: { ds: {}, v: {} } },
      starred: { sql: "select * from {{ ref('stg') }}", columns: { ds: {} } },
      whole: { sql: "select ds, row_to_json(s) as j from {{ ref('stg') }} s", columns: { ds: {}, j: {} } },
      reader: { sql: "select ds, anything from {{ ref('starred') }}", columns: { ds: {}, anything: {} } },
    });
    expect(d).toEqual([]);
  });
});
