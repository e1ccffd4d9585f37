/**
 * Which pipelines one dbt build can gate a range of days for (check/range-build.ts), and the forms
 * the models and tests take. A daily build's SQL must not change: every wrapper renders the daily
 * SQL as it was when `dagspec_first_day` is not set (the Python tests run both).
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../../src/build/build.ts";
import type { PipelineIR } from "../../src/ir/types.ts";

interface Options {
  warehouse?: string;
  models?: string;
  tests?: string;
}

function spec(o: Options): string {
  return `import { definePipeline } from "dagspec";
export default definePipeline({
  id: "ranged",
  description: "Range builds.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: {
      users: { columns: { id: "bigint", country: "text", updated_at: "timestamptz" }, primaryKey: ["id"], extract: { mode: "history", cursor: "updated_at" } },
      orders: { columns: { id: "bigint", user_id: "bigint", amount: "numeric(12,2)", created_at: "timestamptz" }, primaryKey: ["id"], extract: { mode: "incremental", cursor: "created_at" } },
    },
  },
  ${o.warehouse ?? ""}
  models: {
    stg_orders: {
      layer: "staging",
      sql: (q) => \`select id as order_id, user_id, amount, ds from \${q.source("orders")}\`,
      columns: { order_id: { tests: ["unique"] }, user_id: { tests: [{ relationships: { to: "stg_users", field: "user_id" } }] }, amount: {}, ds: {} },
    },
    fct: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => \`select ds, sum(amount) as revenue from \${q.ref("stg_orders")} where true \${q.ifIncremental(\`and ds = \${q.ds}\`)} group by ds\`,
      columns: { ds: {}, revenue: {} },
    },
    ${o.models ?? `stg_users: { layer: "staging", sql: (q) => \`select id as user_id, upper(country) as country from \${q.current("users")} where country is not null\`, columns: { user_id: { tests: ["unique"] }, country: {} } },`}
  },
  tests: {
    ${o.tests ?? `positive: { sql: (q) => \`select order_id from \${q.ref("stg_orders")} where ds = \${q.ds} and amount <= 0\` },`}
  },
  report: { model: "fct", dayColumn: "ds", kpis: [{ column: "revenue", label: "Revenue", format: "currency" }], subject: "s", recipients: ["a@example.com"] },
});
`;
}

async function compile(o: Options): Promise<{ ir: PipelineIR; files: Map<string, string> }> {
  const root = mkdtempSync(join(tmpdir(), "dagspec-range-"));
  try {
    mkdirSync(join(root, "specs"));
    writeFileSync(join(root, "specs/ranged.pipeline.ts"), spec(o));
    const result = await build({ root, specDir: "specs", skipTypecheck: true });
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors, JSON.stringify(errors)).toEqual([]);
    return { ir: result.pipelines[0]!, files: result.files };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const form = (ir: PipelineIR, model: string) => ir.models.find((m) => m.name === model)!.rangeForm;

describe("range builds", () => {
  it("take each model in the form that keeps every day exact", async () => {
    const { ir, files } = await compile({});
    expect(ir.dbt.rangeBuild).toEqual({ ok: true });
    expect(form(ir, "stg_orders")).toEqual({ kind: "static" });
    expect(form(ir, "fct")).toEqual({ kind: "each_day", partitionColumn: "ds" });
    expect(form(ir, "users_history")).toEqual({ kind: "own" });
    expect(form(ir, "users_current")).toMatchObject({ kind: "as_of", columns: ["id", "country", "updated_at"] });
    // Row by row from the dimension, a WHERE included: the days each row holds on are carried.
    const users = form(ir, "stg_users");
    expect(users).toMatchObject({ kind: "as_of", columns: ["user_id", "country"] });
    expect(users.kind === "as_of" && users.rangeSql).toMatch(/upper\(country\) as country,\s+dagspec_from,\s+dagspec_to\s+from\s+\{\{ ref\('users_current'\) \}\}\s+where\s+country is not null/);
    expect(ir.singularTests.map((t) => [t.name, t.eachDay])).toEqual([["positive", true]]);
    const fct = files.get("dbt/ranged/models/marts/fct.sql")!;
    expect(fct).toContain("{% call(day) dagspec_each_day(partition_column='ds') -%}");
    expect(fct).toContain("and ds = '{{ day }}'");
    expect(fct).not.toContain('var("ds")');
    expect(files.get("dbt/ranged/tests/positive.sql")).toContain("{% call(day) dagspec_each_day() -%}");
    expect(files.get("dbt/ranged/macros/dagspec_range.sql")).toContain("{'users_current': ['id', 'country', 'updated_at'], 'stg_users': ['user_id', 'country']}");
    expect(JSON.stringify(files.get("dags/ranged.py"))).toContain('\\"range_build\\": True');
  });

  it("read a dimension as of each day inside a model rendered per day", async () => {
    const { files } = await compile({
      models: `stg_users: { layer: "staging", sql: (q) => \`select id as user_id, country from \${q.current("users")}\`, columns: { user_id: {}, country: {} } },
    by_country: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds", "country"], partitionColumn: "ds" },
      sql: (q) => \`select o.ds, u.country, sum(o.amount) as revenue from \${q.ref("stg_orders")} as o join \${q.ref("stg_users")} as u using (user_id) where o.ds = \${q.ds} group by 1, 2\`,
      columns: { ds: {}, country: {}, revenue: {} },
    },`,
    });
    const sql = files.get("dbt/ranged/models/marts/by_country.sql")!;
    expect(sql).toContain("{{ dagspec_as_of_day('stg_users', day) }} as u");
    expect(sql).toContain("{{ ref('stg_orders') }} as o");
  });

  it.each([
    ["a view that reads the day", `stg_users: { layer: "staging", sql: (q) => \`select id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },
    day_orders: { layer: "staging", sql: (q) => \`select * from \${q.ref("stg_orders")} where ds = \${q.ds}\`, columns: { order_id: {} } },`, /model day_orders \(a view\) reads the report day/],
    ["an aggregate of a dimension as of the day", `stg_users: { layer: "staging", sql: (q) => \`select max(id) as user_id from \${q.current("users")}\`, columns: { user_id: {} } },`, /model stg_users \(a view\) reads the report day but is neither incremental nor row by row/],
    ["a window over it", `stg_users: { layer: "staging", sql: (q) => \`select id as user_id, row_number() over (order by id) as r from \${q.current("users")}\`, columns: { user_id: {}, r: {} } },`, /model stg_users/],
    ["DISTINCT", `stg_users: { layer: "staging", sql: (q) => \`select distinct id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },`, /model stg_users/],
    ["a mart that is a dimension as of the day", `stg_users: { layer: "marts", sql: (q) => \`select id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },`, /mart stg_users is a dimension as of the report day/],
  ])("are refused for %s, with the reason in the project", async (_what, models, reason) => {
    const { ir, files } = await compile({ models });
    expect(ir.dbt.rangeBuild.ok).toBe(false);
    expect(!ir.dbt.rangeBuild.ok && ir.dbt.rangeBuild.reason).toMatch(reason);
    expect(files.get("dbt/ranged/macros/dagspec_range.sql")).toContain("this project cannot build a range of days");
    expect(JSON.stringify(files.get("dags/ranged.py"))).toContain('\\"range_build\\": False');
  });

  it("are refused for an incremental model reading its own rows", async () => {
    const { ir } = await compile({
      models: `stg_users: { layer: "staging", sql: (q) => \`select id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },
    running: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => \`select ds, count(*) as n from \${q.ref("stg_orders")} {% if is_incremental() %} where ds > (select max(ds) from {{ this }}) {% endif %} group by ds\`,
      columns: { ds: {}, n: {} },
    },`,
    });
    expect(ir.dbt.rangeBuild).toEqual({ ok: false, reason: "model running reads its own earlier rows (this)" });
  });

  it("are refused for a relationships test against an incremental model", async () => {
    const { ir } = await compile({
      models: `stg_users: { layer: "staging", sql: (q) => \`select id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },
    refunds: { layer: "marts", sql: (q) => \`select ds from \${q.ref("stg_orders")}\`, columns: { ds: { tests: [{ relationships: { to: "fct", field: "ds" } }] } } },`,
    });
    expect(!ir.dbt.rangeBuild.ok && ir.dbt.rangeBuild.reason).toMatch(/relationships test on refunds.ds checks against incremental model fct/);
  });

  // A range build holds every day of an incremental model before it renders or tests any day:
  // a reader would see days its own day's build had not built (found in review, with a spec whose
  // running total came out as the range's last value on every day).
  it("are refused for a model reading an incremental model", async () => {
    const { ir } = await compile({
      models: `stg_users: { layer: "staging", sql: (q) => \`select id as user_id from \${q.current("users")}\`, columns: { user_id: {} } },
    to_date: {
      layer: "marts",
      materialized: { kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" },
      sql: (q) => \`select cast(\${q.ds} as date) as ds, sum(revenue) as revenue_to_date from \${q.ref("fct")} where ds <= \${q.ds}\`,
      columns: { ds: {}, revenue_to_date: {} },
    },`,
    });
    expect(ir.dbt.rangeBuild).toEqual({ ok: false, reason: "model to_date reads incremental model fct" });
  });

  it("are refused for a singular test reading an incremental model", async () => {
    const { ir } = await compile({
      tests: `no_spike: { sql: (q) => \`select ds from \${q.ref("fct")} where revenue > 2 * (select avg(revenue) from \${q.ref("fct")})\` },`,
    });
    expect(ir.dbt.rangeBuild).toEqual({ ok: false, reason: "test no_spike reads incremental model fct" });
  });

  it("are taken on PostgreSQL too", async () => {
    const { ir } = await compile({ warehouse: `warehouse: { kind: "postgres", connId: "dwh", schema: "marts" },` });
    expect(ir.dbt.rangeBuild).toEqual({ ok: true });
  });
});
