/** DuckDB: one file per pipeline; dbt reads the lake's Parquet directly. */
import type { PipelineIR } from "../../ir/types.ts";
import { dbtEnv, type LakeTarget, type WarehouseTarget } from "./target.ts";

const own = (ir: PipelineIR) => (ir.warehouse.kind === "duckdb" ? ir.warehouse : null);

export const duckdbTarget: WarehouseTarget = {
  lower: (spec) => {
    const wh = spec.warehouse.kind === "duckdb" ? spec.warehouse : null;
    return { kind: "duckdb", path: wh?.path ?? `${spec.id}.duckdb`, auditSchema: "audit", publishSchema: "main" };
  },
  readsLake: true,
  // Only the placeholder PostgreSQL output every project carries is named from the id; DuckDB's own
  // schemas are fixed and distinct.
  derivedSchemas: (spec) => ({ base: spec.id, basePath: ["id"], audit: `${spec.id}_audit`, raw: `${spec.id}_raw`, distinct: [] }),
  profileOutput: (ir: PipelineIR, lake: LakeTarget) => ({
    type: "duckdb",
    path: dbtEnv(ir.names.env.duckdbPath, ":memory:"),
    schema: own(ir)?.auditSchema ?? "audit",
    threads: 1,
    ...lake.duckdbProfile(ir),
  }),
  rawSchema: (ir) => `${ir.id}_raw`, // holds only the committed_files macro: DuckDB reads the lake through external_location
  runtimeConfig: (ir) => {
    const wh = own(ir)!;
    return { kind: "duckdb", path: wh.path, audit_schema: wh.auditSchema, publish_schema: wh.publishSchema };
  },
  describe: (ir) => `DuckDB \`${own(ir)!.path}\``,
};
