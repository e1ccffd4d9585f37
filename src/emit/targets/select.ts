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

const LAKE_TARGETS: Record<PipelineIR["lake"]["kind"], LakeTarget> = { local: localLakeTarget, s3: s3LakeTarget };

export const warehouseTarget = (ir: PipelineIR): WarehouseTarget => WAREHOUSE_TARGETS[ir.warehouse.kind];
export const lakeTarget = (ir: PipelineIR): LakeTarget => LAKE_TARGETS[ir.lake.kind];
