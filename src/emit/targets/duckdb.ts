/** DuckDB: one file per pipeline; dbt reads the lake's Parquet directly. */
import type { PipelineIR } from "../../ir/types.ts";
import { dbtEnv, type LakeTarget, type WarehouseTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.warehouse.kind === "duckdb" ? ir.warehouse : null);

export const duckdbTarget: WarehouseTarget = {
  profileOutput: (ir: PipelineIR, lake: LakeTarget) => ({
    type: "duckdb",
    path: dbtEnv("DAGSPEC_DUCKDB_PATH", ":memory:"),
    schema: own(ir)?.auditSchema ?? "audit",
    threads: 1,
    ...lake.duckdbProfile(),
  }),
  rawSchema: (ir) => `${ir.id}_raw`, // unused: DuckDB reads the lake through external_location
  runtimeConfig: (ir) => {
    const wh = own(ir)!;
    return { kind: "duckdb", path: wh.path, audit_schema: wh.auditSchema, publish_schema: wh.publishSchema };
  },
  describe: (ir) => `DuckDB \`${own(ir)!.path}\``,
};
