/** The query shape whose column names resolve exactly, and every shape that is refused. */
import { describe, expect, it } from "vitest";
import { parseDbtSql } from "../../src/sql/parse-sql.ts";
import { singleRelationQuery } from "../../src/sql/single-relation.ts";

describe("single-relation queries", () => {
  const shape = (sql: string) => {
    const parsed = parseDbtSql(sql);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.analysis.asts.map(singleRelationQuery);
  };

  it("resolve bare projections through an alias, and every column named anywhere", () => {
    const [q] = shape("select o.id as oid, amount, amount + 1 as more from {{ ref('m') }} o where o.ds = '{{ var(\"ds\") }}' order by more");
    expect(q?.relation).toBe("__ref__m");
    expect(q?.projections).toEqual([
      { name: "oid", column: "id" },
      { name: "amount", column: "amount" },
      { name: "more", column: null },
    ]);
    expect(q?.refs.map((r) => r.name).sort()).toEqual(["amount", "amount", "ds", "id", "more"]);
  });

  it("do not take PostgreSQL's functions without parentheses for columns", () => {
    const [q] = shape("select localtimestamp as t, user, current_schema as s, id from {{ ref('m') }}");
    expect(q?.refs.map((r) => r.name)).toEqual(["id"]);
    expect(q?.projections.map((p) => p.column)).toEqual([null, null, null, "id"]);
  });

  it("are refused for any shape that can bring other names into scope", () => {
    for (const sql of [
      "with x as (select 1 as a) select a from {{ ref('m') }}",
      "select a from {{ ref('m') }} join {{ ref('n') }} using (a)",
      "select a from {{ ref('m') }} where a in (select a from {{ ref('n') }})",
      "select a from {{ ref('m') }} union all select a from {{ ref('n') }}",
      "select v from {{ ref('m') }}, unnest(array[1]) as u(v)",
      "select a from (select 1 as a) s",
      "select x.a from {{ ref('m') }} o",
      "select a2 from {{ ref('m') }} as t(a2)",
    ])
      expect(shape(sql), sql).toEqual([null]);
  });

  it("are read in both renderings of an incremental model", () => {
    const both = shape("select id, ds from {{ ref('m') }} {% if is_incremental() %} where ds > (select max(ds) from {{ this }}) {% endif %}");
    expect(both.map((q) => q?.relation ?? null)).toEqual([null, "__ref__m"]);
  });

  it("give exact outputs only when every rendering selects the same columns", () => {
    const outputs = (sql: string) => {
      const parsed = parseDbtSql(sql);
      return parsed.ok ? parsed.analysis.exactOutputs : "error";
    };
    expect(outputs("select id, ds from {{ ref('m') }} {% if is_incremental() %} where ds > '1' {% endif %}")).toEqual(["id", "ds"]);
    expect(outputs("select id, {% if is_incremental() %} 1 as x {% else %} 2 as y {% endif %} from {{ ref('m') }}")).toBeNull();
    expect(outputs("select *, id from {{ ref('m') }}")).toBeNull();
  });
});
