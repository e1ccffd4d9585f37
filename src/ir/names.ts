/**
 * Every name the compiler derives beyond the spec's own: the environment variables the runtime
 * and the generated dbt profiles read, and the lake's layout. Defined here once; lowering puts them
 * in the IR (`ir.names`), the emitters read them from there, and the runtime contract carries them
 * to `dagspec_runtime` (`CONFIG["names"]`), so neither half spells them again.
 */

/** Environment variables by role. */
export const ENV_NAMES = {
  // Where things live on the machine (dagspec_runtime.settings).
  lakeRoot: "DAGSPEC_LAKE_ROOT",
  warehouseRoot: "DAGSPEC_WAREHOUSE_ROOT",
  dbtRoot: "DAGSPEC_DBT_ROOT",
  dbtBin: "DAGSPEC_DBT_BIN",
  artifactsRoot: "DAGSPEC_ARTIFACTS_ROOT",
  // What the runtime hands a dbt build (profiles.yml, sources.yml).
  lakeUri: "DAGSPEC_LAKE_URI",
  auditSchema: "DAGSPEC_AUDIT_SCHEMA",
  publishSchema: "DAGSPEC_PUBLISH_SCHEMA",
  rawSchema: "DAGSPEC_RAW_SCHEMA",
  duckdbPath: "DAGSPEC_DUCKDB_PATH",
  pgHost: "DAGSPEC_PG_HOST",
  pgPort: "DAGSPEC_PG_PORT",
  pgUser: "DAGSPEC_PG_USER",
  pgPassword: "DAGSPEC_PG_PASSWORD",
  pgDbname: "DAGSPEC_PG_DBNAME",
  s3Key: "DAGSPEC_S3_KEY",
  s3Secret: "DAGSPEC_S3_SECRET",
  s3Region: "DAGSPEC_S3_REGION",
  s3EndpointUrl: "DAGSPEC_S3_ENDPOINT_URL",
} as const;

export type EnvNames = { -readonly [K in keyof typeof ENV_NAMES]: string };

/** The lake's layout, relative to its root: `{table}`, `{pipeline}` and `{ds}` (YYYY-MM-DD) are filled in. */
export const LAKE_LAYOUT = {
  rawPartition: "raw/{table}/ds={ds}",
  reportFolder: "reports/{pipeline}/ds={ds}",
} as const;

export interface NamesIR {
  env: EnvNames;
  rawPartition: string;
  reportFolder: string;
}

export const lowerNames = (): NamesIR => ({ env: { ...ENV_NAMES }, ...LAKE_LAYOUT });

/** A layout pattern with its placeholders filled in (the rest left as written). */
export const fillLayout = (pattern: string, values: { table?: string; pipeline?: string; ds?: string }): string =>
  pattern.replace(/\{(table|pipeline|ds)\}/g, (whole, key: "table" | "pipeline" | "ds") => values[key] ?? whole);

/**
 * Each pipeline's generated file also holds its one-pass backfill DAG, `<pipeline id>__backfill`
 * (a range of report days in one run). A pipeline id may therefore not end with the suffix
 * (DS1229): it could be, or clash with, another pipeline's backfill DAG.
 */
export const BACKFILL_DAG_SUFFIX = "__backfill";
export const backfillDagId = (pipelineId: string): string => `${pipelineId}${BACKFILL_DAG_SUFFIX}`;
