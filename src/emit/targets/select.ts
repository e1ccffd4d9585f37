/** The one place that maps a pipeline's warehouse and lake kinds to their targets. */
import type { PipelineIR } from "../../ir/types.ts";
import { duckdbTarget } from "./duckdb.ts";
import { localLakeTarget } from "./lake-local.ts";
import { s3LakeTarget } from "./lake-s3.ts";
import { postgresTarget } from "./postgres.ts";
import type { LakeTarget, WarehouseTarget } from "./target.ts";

export const WAREHOUSE_TARGETS: Record<PipelineIR["warehouse"]["kind"], WarehouseTarget> = {
  duckdb: duckdbTarget,
  postgres: postgresTarget,
};

export const LAKE_TARGETS: Record<PipelineIR["lake"]["kind"], LakeTarget> = { local: localLakeTarget, s3: s3LakeTarget };

/** By kind, for the compiler's stages that run before the IR exists (checks, lowering). */
export const warehouseTargetOf = (kind: PipelineIR["warehouse"]["kind"]): WarehouseTarget => WAREHOUSE_TARGETS[kind];
export const lakeTargetOf = (kind: PipelineIR["lake"]["kind"]): LakeTarget => LAKE_TARGETS[kind];

export const warehouseTarget = (ir: PipelineIR): WarehouseTarget => WAREHOUSE_TARGETS[ir.warehouse.kind];
export const lakeTarget = (ir: PipelineIR): LakeTarget => LAKE_TARGETS[ir.lake.kind];
