/**
 * What each warehouse and lake contributes to the generated files. One module per kind
 * (duckdb.ts, postgres.ts, lake-local.ts, lake-s3.ts); `select.ts` is the one place that picks
 * them, so the emitters never ask which kind a pipeline has. Adding a warehouse is adding a module
 * here, its runtime adapter, and a golden case.
 */
import type { RuntimeConfig } from "../../ir/contract.ts";
import type { LakeIR, PipelineIR, WarehouseIR } from "../../ir/types.ts";
import type { CheckedSpec } from "../../spec/schema.ts";

export const dbtEnv = (name: string, fallback?: string) =>
  fallback === undefined ? `{{ env_var('${name}') }}` : `{{ env_var('${name}', '${fallback}') }}`;

/** The schemas a warehouse derives from spec names, for the identifier-length check. */
export interface DerivedSchemas {
  /** The spec name the derived schemas extend, and where in the spec it is written. */
  base: string;
  basePath: string[];
  audit: string;
  raw: string;
  /** Schemas that must all differ (write-audit-publish), with the spec path to blame; empty when the warehouse has no such schemas. */
  distinct: { role: "published" | "audit" | "raw"; name: string; path: string[] }[];
}

export interface WarehouseTarget {
  /** This warehouse's IR from the spec's, with its defaults applied. */
  lower(spec: CheckedSpec): WarehouseIR;
  /** False for a warehouse that cannot read the lake: the DAG loads each day's partitions into it first. */
  readsLake: boolean;
  derivedSchemas(spec: CheckedSpec): DerivedSchemas;
  /**
   * This target's profiles.yml output. Every project carries both outputs so it parses on either
   * warehouse; for a pipeline on the other warehouse the names are placeholders.
   */
  profileOutput(ir: PipelineIR, lake: LakeTarget): Record<string, unknown>;
  /** The schema sources.yml points the lake's tables at (PostgreSQL loads them there first). */
  rawSchema(ir: PipelineIR): string;
  /** The warehouse part of the runtime contract's config. */
  runtimeConfig(ir: PipelineIR): RuntimeConfig["warehouse"];
  /** One line for the DAG docs. */
  describe(ir: PipelineIR): string;
}

export interface LakeTarget {
  /** This lake's IR from the spec's, with its defaults applied. */
  lower(spec: CheckedSpec): LakeIR;
  /** What DuckDB needs in its profile to read this lake (fsspec filesystems), if anything. */
  duckdbProfile(ir: PipelineIR): Record<string, unknown>;
  runtimeConfig(ir: PipelineIR): RuntimeConfig["lake"];
  describe(ir: PipelineIR): string;
}
