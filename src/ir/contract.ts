/**
 * The runtime contract: the one config a generated DAG hands to the `dagspec_runtime` package
 * (`airflow/runtime`), which parses it once, at DAG parse time, into frozen dataclasses
 * (`dagspec_runtime.contract`). This zod schema is its single definition on the compiler side:
 * `pipelineConfig` is typed by it, `runtimeConfigJsonSchema()` turns it into the JSON schema committed
 * beside the runtime (`contract.schema.json`), and a pytest checks that schema against the runtime's
 * dataclasses, so the two halves cannot drift.
 *
 * Every value is final: defaults are applied by lowering, never again by the runtime, so every field
 * is required (nullable where "none" is meaningful) and no object admits unknown keys.
 *
 * Bump CONTRACT_VERSION with any change a runtime built for the previous version would misread
 * (a field added, removed, renamed or given a new meaning), together with the runtime's own
 * CONTRACT_VERSION: a DAG compiled for another version then fails its import, naming both.
 */
import { z } from "zod";

export const CONTRACT_VERSION = 4;

const name = z.string().min(1);

const column = z.strictObject({
  name,
  /** Postgres type as the spec spells it, from the closed list the checker accepts. */
  type: name,
});

const table = z.strictObject({
  name,
  schema: name,
  columns: z.array(column).min(1),
  primary_key: z.array(name).min(1),
  /** history: rows whose cursor is at or after the report day's start (the whole table for a base). */
  mode: z.enum(["incremental", "snapshot", "history"]),
  /** The column that places a row in a report day (incremental) or marks its change (history); null for snapshots. */
  cursor_column: name.nullable(),
});

const lake = z.discriminatedUnion("kind", [
  /** A folder; a relative path resolves under `$DAGSPEC_LAKE_ROOT`. */
  z.strictObject({ kind: z.literal("local"), path: name }),
  z.strictObject({ kind: z.literal("s3"), bucket: name, prefix: z.string(), conn_id: name }),
]);

const warehouse = z.discriminatedUnion("kind", [
  /** A DuckDB file; a relative path resolves under `$DAGSPEC_WAREHOUSE_ROOT`. */
  z.strictObject({ kind: z.literal("duckdb"), path: name, audit_schema: name, publish_schema: name }),
  z.strictObject({ kind: z.literal("postgres"), conn_id: name, audit_schema: name, publish_schema: name, raw_schema: name }),
]);

const mart = z.strictObject({
  name,
  materialized: z.enum(["view", "table", "incremental"]),
  /** The report-day column of an incremental mart (published a day at a time), else null. */
  partition_column: name.nullable(),
  unique_key: z.array(name),
});

const kpi = z.strictObject({ column: name, label: z.string(), format: z.enum(["currency", "count", "percent", "ratio"]) });

/** Environment variable names by role (`names.ts`, ENV_NAMES in snake case). */
const envNames = z.strictObject({
  lake_root: name,
  warehouse_root: name,
  dbt_root: name,
  dbt_bin: name,
  artifacts_root: name,
  lake_uri: name,
  audit_schema: name,
  publish_schema: name,
  raw_schema: name,
  duckdb_path: name,
  pg_host: name,
  pg_port: name,
  pg_user: name,
  pg_password: name,
  pg_dbname: name,
  s3_key: name,
  s3_secret: name,
  s3_region: name,
  s3_endpoint_url: name,
});

export const RuntimeConfigSchema = z.strictObject({
  contract_version: z.literal(CONTRACT_VERSION),
  id: name,
  /** IANA zone of the schedule and of report days. */
  timezone: name,
  /** How many local days before its scheduled start a run's report day is. */
  report_lag_days: z.int().min(0),
  spec_file: name,
  spec_hash: name,
  source: z.strictObject({ conn_id: name, name, tables: z.array(table).min(1) }),
  lake,
  warehouse,
  /** range_build: one dbt build can gate a backfill's range of days (DbtIR.rangeBuild). */
  dbt: z.strictObject({ project: name, target: z.enum(["duckdb", "postgres"]), range_build: z.boolean() }),
  marts: z.array(mart),
  report: z.strictObject({
    model: name,
    day_column: name,
    kpis: z.array(kpi).min(1),
    /** `{ds}` is replaced by the report day. */
    subject: z.string(),
    recipients: z.array(name),
    smtp_conn_id: name,
    currency: name,
    email_backfills: z.boolean(),
    /** A re-run that changes a delivered day's KPIs: "send" a corrected report, or "alert" the engineers. */
    corrections: z.enum(["send", "alert"]),
  }),
  alerts: z.strictObject({
    /** null: the spec has no SLA, nothing pages. */
    pagerduty_conn_id: name.nullable(),
    severity: z.enum(["critical", "error", "warning", "info"]),
    engineers: z.array(name),
    /** The engineers' SMTP connection (the report's unless the spec names another). */
    smtp_conn_id: name,
    /** Local HH:MM the report is due, or null without an SLA. */
    deliver_by: name.nullable(),
  }),
  /** Every name the compiler derives beyond the spec's: the runtime uses these, never its own spelling. */
  names: z.strictObject({
    env: envNames,
    /** Lake layout patterns relative to the lake root; `{table}`, `{pipeline}`, `{ds}` are filled in. */
    raw_partition: name,
    report_folder: name,
  }),
});

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/**
 * The kwargs of the DAG's SLA DeadlineAlerts (`AsyncCallback("dagspec_runtime.alerts.on_deadline_miss",
 * kwargs=...)`): stored with the serialized DAG and handed to the callback in the triggerer, which
 * has no PIPELINE, so they carry what the page needs. Parsed by `dagspec_runtime.contract.load_deadline_kwargs`.
 */
export const DeadlineKwargsSchema = z.strictObject({
  pipeline_id: name,
  stage: z.enum(["at_risk", "breach"]),
  /** Local HH:MM the report is due. */
  deliver_by: name,
  timezone: name,
  report_lag_days: z.int().min(0),
  pagerduty_conn_id: name,
  severity: z.enum(["critical", "error", "warning", "info"]),
  /** The DAG's task ids, upstream first: a late run's page names the earliest task holding it up. */
  task_order: z.array(name),
});

export type DeadlineKwargs = z.infer<typeof DeadlineKwargsSchema>;

/** The JSON schema of the contract (draft 2020-12), as committed beside the runtime; `$defs.deadline_kwargs` is the deadline callbacks' kwargs. */
export function runtimeConfigJsonSchema(): Record<string, unknown> {
  const config = z.toJSONSchema(RuntimeConfigSchema, { target: "draft-2020-12" });
  // The deadline callbacks' kwargs, checked against the runtime's DeadlineKwargs like the config.
  const { $schema: _, ...deadline } = z.toJSONSchema(DeadlineKwargsSchema, { target: "draft-2020-12" });
  return {
    ...config,
    $defs: { ...((config.$defs as Record<string, unknown> | undefined) ?? {}), deadline_kwargs: deadline },
    $id: `https://dagspec.dev/contract/v${CONTRACT_VERSION}/runtime-config.schema.json`,
    title: "dagspec runtime config",
    description: "The CONFIG of a dagspec-generated DAG, parsed once by dagspec_runtime.contract.load_pipeline.",
  };
}
