import { definePipeline } from "dagspec";

// Names and values that are legal but brush against every consumer: JavaScript prototype property
// names as model, column and table names, a 57-character id (the longest whose derived PostgreSQL
// schemas fit in 63 bytes), 80-character connection id and paths (the longest allowed), cron lists/ranges/steps/names, and quotes in test values.
export default definePipeline({
  id: "a_pipeline_id_of_fifty_seven_characters_xxxxxxxxxxxxxxxx",
  description: "Prototype-property names and long ids still give output every consumer accepts.",
  owner: "data",
  schedule: { cron: "30 5,17 1-31/2 1,3-12 MON-FRI", timezone: "America/Argentina/Buenos_Aires", startDate: "2999-12-01" },
  source: {
    connId: "an.airflow-connection_id.of.the.longest.allowed.length.eighty.characters.xxxxxxx",
    readiness: { sql: "select 100 %% 7 = 2 and %(day_start)s::timestamptz < %(day_end)s::timestamptz" },
    tables: {
      constructor: { columns: { valueof: "bigint", tostring: "text" }, primaryKey: ["valueof"], extract: { mode: "snapshot" } },
      // Code-point order puts t1 before t_1, ICU's collation (under any LC_ALL, even C) the reverse;
      // Danish collation sorts aa (as å) after z.
      t_1: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } },
      t1: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } },
      aa_stock: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } },
    },
  },
  lake: { kind: "local", path: "a/lake/path/of/the/longest/length/allowed/which/is/eighty/characters/xxxxxxxxxxx" },
  warehouse: { kind: "duckdb", path: "a/warehouse/path/of/the/longest/length/allowed/eighty/characters/xxxxxxxx.duckdb" },
  models: {
    constructor: {
      layer: "marts",
      sql: "select ds, tostring, count(*) as valueof from {{ source('app', 'constructor') }} group by ds, tostring",
      columns: {
        ds: {},
        tostring: { tests: [{ accepted_values: { values: ["it's", "''", "\\", 'say "hi"', "%(x)s", "% 100"] } }] },
        valueof: { tests: ["not_null"] },
      },
    },
  },
  report: { model: "constructor", dayColumn: "ds", kpis: [{ column: "valueof", label: "Rows", format: "count" }], subject: "Daily", recipients: ["a@example.com"] },
});
