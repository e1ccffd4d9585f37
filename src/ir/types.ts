/**
 * The IR: the contract between the front end (load, validate) and the emitters. Plain,
 * JSON-serialisable data with every default applied and every collection in output order. Emitters
 * import these types only, never zod or spec types. `gen build --emit-ir` prints it.
 */
import type { NamesIR } from "./names.ts";

/**
 * The column every lake partition adds to a source table's rows: the report day it was extracted
 * for (hive partition `ds=YYYY-MM-DD`). Sources declare it, models may carry it, day-scoped tests
 * filter on it.
 */
export const PARTITION_COLUMN = "ds";

export interface PipelineIR {
  id: string;
  description: string;
  owner: string;
  tags: string[];
  /** Repository-relative POSIX path of the spec file. */
  specFile: string;
  /** sha256 of the spec file, the SQL files it reads and the local modules it imports, first 16 hex digits. */
  specHash: string;
  schedule: ScheduleIR;
  sla: SlaIR | null;
  source: SourceIR;
  lake: LakeIR;
  warehouse: WarehouseIR;
  dbt: DbtIR;
  models: ModelIR[];
  singularTests: SingularTestIR[];
  report: ReportIR;
  /** The DAG's tasks in topological order. */
  tasks: TaskIR[];
  /** Environment variable names and the lake layout (`names.ts`). */
  names: NamesIR;
}

export interface ScheduleIR {
  cron: string;
  timezone: string;
  startDate: string;
  catchup: boolean;
  retries: number;
  retryDelayMinutes: number;
  maxActiveRuns: number;
  reportLagDays: number;
  /** Local start times of the runs of a day, minutes after midnight, ascending. */
  startMinutes: number[];
}

export interface SlaIR {
  deliverBy: string;
  atRiskLeadMinutes: number;
  /** Deadline offsets from the run's logical date (its scheduled start), in minutes. */
  breachAfterMinutes: number;
  atRiskAfterMinutes: number;
  pagerdutyConnId: string;
  pagerdutySeverity: "critical" | "error" | "warning" | "info";
  engineers: string[];
  /** The engineers' SMTP connection (the report's unless the spec names another). */
  smtpConnId: string;
}

export interface ColumnIR {
  name: string;
  type: string;
}

export interface TableIR {
  name: string;
  schema: string;
  description: string | null;
  columns: ColumnIR[];
  primaryKey: string[];
  /** incremental: the day's rows by cursor; snapshot: the whole table; history: rows changed since the day began. */
  mode: "incremental" | "snapshot" | "history";
  cursorColumn: string | null;
}

export interface SourceIR {
  connId: string;
  name: string;
  readinessSql: string;
  pokeIntervalSeconds: number;
  timeoutSeconds: number;
  tables: TableIR[];
}

export type LakeIR =
  | { kind: "local"; path: string }
  | { kind: "s3"; bucket: string; prefix: string; connId: string };

/**
 * dbt builds into `auditSchema`; the DAG publishes audited marts into `publishSchema` (the
 * spec's schema on PostgreSQL, DuckDB's `main`). Named here, once, for the dbt profiles and the runtime.
 */
export type WarehouseIR =
  | { kind: "duckdb"; path: string; auditSchema: string; publishSchema: string }
  | { kind: "postgres"; connId: string; schema: string; rawSchema: string; auditSchema: string; publishSchema: string };

/** The generated dbt project (`dbt/<project>`) and the profile target the DAG runs it with. */
export interface DbtIR {
  project: string;
  target: WarehouseIR["kind"];
  /**
   * Whether one dbt build can gate a backfill's range of report days, each day exactly as its own
   * build would (`check/range-build.ts`), and if not, why: the backfill then gates day by day.
   */
  rangeBuild: { ok: true } | { ok: false; reason: string };
}

/**
 * How a model is built in a range build (`dagspec_first_day` set; `emit/dbt/range-build.ts`):
 * - static: it does not depend on the report day; built as it is;
 * - each_day: an incremental model, rendered once per day of the range, each day's rows its
 *   partition's rows;
 * - as_of: a dimension as of the report day; in a range build it holds each version once with the
 *   days it is valid for (`dagspec_from`, `dagspec_to`), selected by `rangeSql`; `columns` are its
 *   own columns (without those two);
 * - own: generated SQL that takes the range itself (a history table's merge).
 */
export type RangeFormIR =
  | { kind: "static" }
  | { kind: "each_day"; partitionColumn: string }
  | { kind: "as_of"; rangeSql: string; columns: string[] }
  | { kind: "own" };

export type TestSeverity = "error" | "warn";

export type ColumnTestIR =
  | { kind: "unique"; severity: TestSeverity }
  | { kind: "not_null"; severity: TestSeverity }
  | { kind: "accepted_values"; values: (string | number)[]; severity: TestSeverity }
  | { kind: "relationships"; to: string; field: string; severity: TestSeverity }
  | { kind: "expression"; name: string; sql: string; severity: TestSeverity };

export interface ModelColumnIR {
  name: string;
  description: string | null;
  tests: ColumnTestIR[];
}

export type MaterializationIR =
  | { kind: "view" }
  | { kind: "table" }
  | { kind: "incremental"; uniqueKey: string[]; partitionColumn: string };

export interface ModelIR {
  name: string;
  layer: "staging" | "intermediate" | "marts";
  description: string | null;
  /** dbt SQL, formatted. */
  sql: string;
  materialized: MaterializationIR;
  columns: ModelColumnIR[];
  /**
   * The column holding the report day (the lake's `ds` partition carried through, or an incremental
   * model's partition column), or null. Generic tests on the model audit that day's rows only: a bad
   * day left in history must not block every later day, and a daily run costs what the day costs.
   */
  dayColumn: string | null;
  /** Models this one ref()s, sorted. */
  refs: string[];
  /** Source tables this one reads, sorted. */
  sources: string[];
  rangeForm: RangeFormIR;
}

export interface SingularTestIR {
  name: string;
  description: string | null;
  sql: string;
  severity: TestSeverity;
  /** It reads the report day (or a dimension as of it): a range build renders it once per day. */
  eachDay: boolean;
  refs: string[];
  sources: string[];
}

export interface KpiIR {
  column: string;
  label: string;
  format: "currency" | "count" | "percent" | "ratio";
}

export interface ReportIR {
  model: string;
  dayColumn: string;
  kpis: KpiIR[];
  subject: string;
  recipients: string[];
  smtpConnId: string;
  currency: string;
  emailBackfills: boolean;
  /** A re-run that changes a delivered day's numbers: send a corrected report, or alert the engineers. */
  corrections: "send" | "alert";
}

/** One node of the DAG. Emitters switch on `kind` exhaustively. */
export type TaskIR =
  | { kind: "wait_for_source"; id: string; upstream: string[] }
  | { kind: "extract"; id: string; upstream: string[] }
  | { kind: "load_raw"; id: string; upstream: string[] }
  | {
      kind: "dbt_build";
      id: string;
      upstream: string[];
      /** The tests this gate runs, error severity, as `model.column.test` or singular names. */
      gates: string[];
    }
  | { kind: "publish_tables"; id: string; upstream: string[]; models: string[] }
  | { kind: "publish_report"; id: string; upstream: string[] };

export type TaskKind = TaskIR["kind"];
