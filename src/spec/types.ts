/**
 * The spec language: what a data engineer writes in `specs/*.pipeline.ts`.
 *
 * These types are the user's documentation and autocomplete. Generics tie references together so
 * that the TypeScript compiler rejects, in the editor, a report KPI naming a column its model does
 * not have, a relationships test naming an unknown model, or a model reading an undeclared source
 * table. The zod schema in `schema.ts` checks the same structure at build time for values the type
 * system cannot see (strings, ranges, formats).
 */

/** Postgres column types dagspec can extract and map to Parquet. Example: `"numeric(12,2)"`. */
export type ColumnType =
  | "bigint"
  | "integer"
  | "smallint"
  | `numeric(${number},${number})`
  | "double precision"
  | "real"
  | "text"
  | "varchar"
  | "boolean"
  | "date"
  | "timestamp"
  | "timestamptz"
  | "uuid"
  | "jsonb";

/** How a source table is copied into the lake on each run. */
export type ExtractMode<C extends string> =
  | {
      /**
       * Copy only the rows whose `cursor` column falls in the run's report day (a calendar day in
       * the pipeline's timezone). The cursor must be a `timestamptz` or `date` column.
       * Example: `{ mode: "incremental", cursor: "created_at" }`.
       */
      mode: "incremental";
      cursor: C;
    }
  | {
      /** Copy the whole table every run (small dimension tables). Example: `{ mode: "snapshot" }`. */
      mode: "snapshot";
    }
  | {
      /**
       * A dimension kept as a history (SCD type 2): each run copies only the rows whose `cursor`
       * (a `timestamptz` the application sets on every insert and update, e.g. `updated_at`) is at or
       * after the start of the report day, and the first run (or the first after a missing day)
       * copies the whole table. dbt merges them into `<table>_history` (one row per version, with
       * `valid_from`, `valid_to`, `is_current`), and `q.current("<table>")` reads the rows as of
       * the report day, exactly as a snapshot taken by that day's run would hold them. Rows deleted
       * in the source are not seen: delete by setting a flag and the cursor.
       * Example: `{ mode: "history", cursor: "updated_at" }`.
       */
      mode: "history";
      cursor: C;
    };

export interface TableSpec<Cols extends Record<string, ColumnType> = Record<string, ColumnType>> {
  /** Schema of the table in the source database. Default: `"public"`. Example: `"app"`. */
  schema?: string;
  /** Human description, shown in dbt docs. Default: none. */
  description?: string;
  /** Every column the pipeline may read, with its Postgres type. Example: `{ id: "bigint" }`. */
  columns: Cols;
  /** Primary key columns; extracts are ordered by them so output is deterministic. Example: `["id"]`. */
  primaryKey: readonly (keyof Cols & string)[];
  /** How the table is extracted. Example: `{ mode: "incremental", cursor: "created_at" }`. */
  extract: ExtractMode<keyof Cols & string>;
}

/**
 * A source table without its `extract`: what `gen introspect` writes from the live catalogue. Spread
 * one into `source.tables` and add the extract. Example:
 * `orders: { ...tables.orders, extract: { mode: "incremental", cursor: "created_at" } }`.
 */
export type SourceTableSpec<Cols extends Record<string, ColumnType> = Record<string, ColumnType>> = Omit<TableSpec<Cols>, "extract">;

export type Severity = "error" | "warn";

/** Generic (schema) tests on a model column, compiled into dbt's schema.yml. */
export type ColumnTest<ModelName extends string> =
  | "unique"
  | "not_null"
  | { unique: { severity?: Severity } }
  | { not_null: { severity?: Severity } }
  | {
      /** The column only holds these values. Example: `{ accepted_values: { values: ["paid"] } }`. */
      accepted_values: { values: readonly (string | number)[]; severity?: Severity };
    }
  | {
      /**
       * Referential integrity: every non-null value exists in `to`'s `field`.
       * Example: `{ relationships: { to: "stg_users", field: "id" } }`.
       */
      relationships: { to: ModelName; field: string; severity?: Severity };
    }
  | {
      /**
       * A SQL boolean expression over the column that must hold on every row; `{column}` is the
       * column itself. Example: `{ expression: { sql: "{column} >= 0", name: "non_negative" } }`.
       */
      expression: { sql: string; name: string; severity?: Severity };
    };

export interface ColumnDoc<ModelName extends string> {
  /** Shown in dbt docs and the report's lineage. Default: none. */
  description?: string;
  /** Tests on this column. Default: none. Example: `["unique", "not_null"]`. */
  tests?: readonly ColumnTest<ModelName>[];
}

/** Helpers handed to a model's `sql` function: they return the dbt Jinja for a reference. */
export interface SqlContext<TableName extends string, ModelName extends string> {
  /** `{{ source('<pipeline source>', 'orders') }}` for a declared source table. */
  source(table: TableName): string;
  /** `{{ ref('stg_orders') }}` for another model of this pipeline. */
  ref(model: ModelName): string;
  /** `{{ var('ds') }}` quoted as a SQL date literal: the run's report day. */
  readonly ds: string;
  /**
   * The rows of a `mode: "history"` table as of the run's report day: `{{ ref('<table>_current') }}`,
   * a view over the lake holding each key's latest version that day's extract saw.
   */
  current(table: TableName): string;
  /** `{% if is_incremental() %}`…`{% endif %}` around `sql`: a filter used only on incremental runs. */
  ifIncremental(sql: string): string;
}

export type Materialization<C extends string> =
  | "view"
  | "table"
  | {
      /**
       * Incremental by day: each run rebuilds only the rows of its report day. `partitionColumn` is a
       * date column holding the report day; `uniqueKey` identifies a row for the merge.
       * Example: `{ kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" }`.
       */
      kind: "incremental";
      uniqueKey: readonly C[];
      partitionColumn: C;
    };

export type Layer = "staging" | "intermediate" | "marts";

export interface ModelSpec<
  TableName extends string,
  ModelName extends string,
  Cols extends Record<string, ColumnDoc<ModelName>> = Record<string, ColumnDoc<ModelName>>,
> {
  /** Where the model sits; sets its folder and default materialisation. Example: `"staging"`. */
  layer: Layer;
  /** Shown in dbt docs. Default: none. */
  description?: string;
  /**
   * The model's SELECT, in dbt SQL. A string (with `{{ ref('x') }}` / `{{ source('s', 't') }}`),
   * a function receiving typed `ref`/`source` helpers, or `{ file: "stg_orders.sql" }` relative to
   * the spec file. Example: `(q) => \`select * from ${q.source("orders")}\``.
   */
  sql: string | { file: string } | ((q: SqlContext<TableName, ModelName>) => string);
  /**
   * Materialisation. Default: `"view"` for staging, `"table"` for intermediate and marts.
   * Example: `{ kind: "incremental", uniqueKey: ["ds"], partitionColumn: "ds" }`.
   */
  materialized?: Materialization<keyof Cols & string>;
  /** Every column the model produces, with docs and tests. Example: `{ id: { tests: ["unique"] } }`. */
  columns: Cols;
}

export interface SingularTestSpec<TableName extends string, ModelName extends string> {
  /** What the test guards, shown in alerts and the report. */
  description?: string;
  /** A query returning the failing rows (dbt singular test). Same forms as a model's `sql`. */
  sql: string | { file: string } | ((q: SqlContext<TableName, ModelName>) => string);
  /** `error` blocks publishing; `warn` is reported. Default: `"error"`. */
  severity?: Severity;
}

export type KpiFormat = "currency" | "count" | "percent" | "ratio";

export interface KpiSpec<C extends string> {
  /** The column of the report model holding the KPI. Example: `"revenue"`. */
  column: C;
  /** Label in the email. Example: `"Revenue"`. */
  label: string;
  /** How to print it. `currency` uses the report's `currency`. Example: `"currency"`. */
  format: KpiFormat;
}

export interface ReportSpec<ModelCols extends Record<string, Record<string, unknown>>, M extends keyof ModelCols & string> {
  /** The model holding one row per report day. Example: `"fct_daily_metrics"`. */
  model: M;
  /** The model's date column holding the report day. Example: `"ds"`. */
  dayColumn: keyof ModelCols[M] & string;
  /** The KPIs, in display order. */
  kpis: readonly KpiSpec<keyof ModelCols[M] & string>[];
  /** Email subject; `{ds}` becomes the report day. Example: `"Daily metrics for {ds}"`. */
  subject: string;
  /** Executive recipients. Example: `["ceo@example.com"]`. */
  recipients: readonly string[];
  /** SMTP connection id. Default: `"smtp_default"`. */
  smtpConnId?: string;
  /** ISO 4217 currency for `currency` KPIs. Default: `"USD"`. */
  currency?: string;
  /** Email the report for backfilled (historical) runs too. Default: `false` (archive only). */
  emailBackfills?: boolean;
  /**
   * What happens when a re-run of a day already delivered publishes other numbers (the day's KPIs
   * differ from the version the recipients have). The delivered version stays archived either way.
   * `"send"`: email the recipients a report marked "Corrected" that shows the old and new numbers.
   * `"alert"`: email the recipients nothing; page and email the engineers with both versions'
   * numbers (needs `sla`). Default: `"send"`.
   */
  corrections?: "send" | "alert";
}

export interface ScheduleSpec {
  /**
   * Five-field cron in the pipeline's timezone; minute and hour are fixed numbers (hour may be a
   * list), so every run has a scheduled local start time. Example: `"0 6 * * *"`.
   */
  cron: string;
  /**
   * IANA timezone for the cron, report days and the SLA: a canonical or per-country name of the
   * tzdata release Airflow's pendulum uses, exact case, no deprecated links (`US/Eastern` is
   * refused). Example: `"America/New_York"`.
   */
  timezone: string;
  /** First logical date, `YYYY-MM-DD`, between 1900 and 2999. Example: `"2026-01-01"`. */
  startDate: string;
  /** Create runs for missed intervals when unpaused. Default: `false`. */
  catchup?: boolean;
  /** Task retries. Default: `2`. */
  retries?: number;
  /** Minutes between retries. Default: `5`. */
  retryDelayMinutes?: number;
  /** Concurrent runs (bounds backfill parallelism). Default: `1`. */
  maxActiveRuns?: number;
  /** The run reports on the day this many days before its scheduled start (local). Default: `1`. */
  reportLagDays?: number;
}

export interface SlaSpec {
  /** Local time (schedule timezone) on the run's start day by which the report must be delivered. Example: `"08:00"`. */
  deliverBy: string;
  /** Minutes before `deliverBy` at which an at-risk alert fires. Default: `30`. */
  atRiskLeadMinutes?: number;
  /** PagerDuty Events API v2 routing. Example: `{ connId: "pagerduty_default", severity: "critical" }`. */
  pagerduty: { connId: string; severity?: "critical" | "error" | "warning" | "info" };
  /** Engineers emailed on failures and SLA misses. Example: `["data-eng@example.com"]`. */
  engineers: readonly string[];
  /**
   * SMTP connection id for the engineers' email, so that an outage of the report's mail relay does
   * not also silence the failure alerts. Default: the report's `smtpConnId`.
   * Example: `"smtp_alerts"`.
   */
  smtpConnId?: string;
}

export interface ReadinessSpec {
  /**
   * SQL run by the sensor on the source; the source is ready when the first cell is true. May use
   * psycopg named parameters `%(report_day)s`, `%(day_start)s` and `%(day_end)s`.
   * Example: `"select not exists (select 1 from ops.maintenance where now() between starts_at and ends_at)"`.
   */
  sql: string;
  /** Seconds between checks. Default: `300`. */
  pokeIntervalSeconds?: number;
  /** Give up (and fail the run) after this many minutes. Default: `120`. */
  timeoutMinutes?: number;
}

export interface SourceSpec<TableCols extends Record<string, Record<string, ColumnType>>> {
  /** Airflow connection id of the Postgres source. Example: `"app_db"`. */
  connId: string;
  /** dbt source name used by `source()`. Default: `"app"`. */
  name?: string;
  /** When the source is safe to read. */
  readiness: ReadinessSpec;
  /** The tables to extract. */
  tables: { [K in keyof TableCols]: TableSpec<TableCols[K]> };
}

export type LakeSpec =
  | {
      /**
       * A local folder (at most 80 characters, no `..`); a relative path is resolved under
       * `$DAGSPEC_LAKE_ROOT`. Example: `{ kind: "local", path: "lake" }`.
       */
      kind: "local";
      path?: string;
    }
  | {
      /** S3 (or an S3-compatible store) through an Airflow AWS connection. */
      kind: "s3";
      bucket: string;
      /** Key prefix. Default: the pipeline id. */
      prefix?: string;
      /** Airflow AWS connection id. Default: `"aws_default"`. */
      connId?: string;
    };

export type WarehouseSpec =
  | {
      /**
       * Embedded DuckDB (at most 80 characters, no `..`); a relative path is resolved under
       * `$DAGSPEC_WAREHOUSE_ROOT`. Default path: `<pipeline id>.duckdb`.
       */
      kind: "duckdb";
      path?: string;
    }
  | {
      /** PostgreSQL through an Airflow connection. */
      kind: "postgres";
      connId: string;
      /** Schema for models. Example: `"analytics"`. */
      schema: string;
      /** Schema the raw partitions are loaded into. Default: `"<schema>_raw"`. */
      rawSchema?: string;
    };

/**
 * A whole pipeline. `TableCols` maps each source table to its columns and `ModelCols` each model to
 * its columns; both are inferred by `definePipeline` from the literal.
 */
export interface PipelineSpec<
  TableCols extends Record<string, Record<string, ColumnType>>,
  ModelCols extends Record<string, Record<string, ColumnDoc<keyof ModelCols & string>>>,
  R extends keyof ModelCols & string,
> {
  /**
   * The DAG id: 1-64 lowercase letters, digits and underscores (at most 57 on DuckDB, whose generated
   * PostgreSQL target derives `<id>_audit`). Example: `"daily_metrics_pipeline"`.
   */
  id: string;
  /** One line on what the pipeline delivers. */
  description: string;
  /** Owning team, shown in the Airflow UI; at most 80 characters. Example: `"data-platform"`. */
  owner: string;
  /** Airflow tags. Default: none. Example: `["kpi"]`. */
  tags?: readonly string[];
  schedule: ScheduleSpec;
  sla?: SlaSpec;
  source: SourceSpec<TableCols>;
  /** Where raw Parquet lands. Default: `{ kind: "local" }`. */
  lake?: LakeSpec;
  /** Where dbt builds. Default: `{ kind: "duckdb" }`. */
  warehouse?: WarehouseSpec;
  /** dbt models: name -> model. Names are dbt identifiers, e.g. `stg_orders`. */
  models: {
    [K in keyof ModelCols]: ModelSpec<keyof TableCols & string, keyof ModelCols & string, ModelCols[K]>;
  };
  /** Singular tests: name -> SQL returning failing rows. Example: `{ assert_positive_revenue: {...} }`. */
  tests?: Record<string, SingularTestSpec<keyof TableCols & string, keyof ModelCols & string>>;
  report: ReportSpec<ModelCols, R>;
}
