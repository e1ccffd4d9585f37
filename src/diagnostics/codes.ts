/**
 * The catalogue of diagnostic codes. A code never changes meaning once released: golden files and
 * users' CI greps hold them. Add new codes at the end of their block.
 */
export const CODES = {
  // 10xx: loading spec files
  DS1001: "TypeScript error in a spec file",
  DS1002: "spec file failed to load",
  DS1003: "spec file does not default-export definePipeline(...)",
  DS1004: "SQL file not found",
  DS1005: "spec file path cannot be named in generated files",
  DS1007: "internal compiler error",
  // 11xx: field shape (zod)
  DS1101: "invalid field",
  // 12xx: cross-checks
  DS1201: "unknown model in ref()",
  DS1202: "unknown source table in source()",
  DS1203: "dependency cycle between models",
  DS1204: "test on an unknown model or column",
  DS1205: "report KPI not produced by the report model",
  DS1206: "duplicate pipeline id",
  DS1207: "SQL does not parse",
  DS1208: "source column not declared",
  DS1209: "SLA deadline is not after the scheduled start",
  DS1210: "SLA deadline is after the next scheduled run",
  DS1211: "publish step not downstream of an error-severity test",
  DS1212: "unsafe text for generated code",
  DS1213: "invalid schedule",
  DS1214: "incremental cursor must be a timestamptz or date column",
  DS1215: "SLA window crosses a daylight-saving change",
  DS1216: "primary key or cursor names an undeclared column",
  DS1217: "model materialisation names an undeclared column",
  DS1218: "unknown source name in source()",
  DS1219: "report day column is not a column of the report model",
  DS1220: "declared model column not produced by its SQL",
  DS1221: "derived PostgreSQL name too long or not distinct",
  DS1222: "history cursor must be a timestamptz column outside the primary key",
  DS1223: "history table on a schedule that reports on its own day",
  DS1224: "history table clashes with a name the compiler generates",
  DS1225: "model reads a history table's change partitions through source()",
  DS1226: "corrections alert the engineers, but there is no sla",
  // 13xx: source drift, `gen build --against <conn>` (the spec against the live source catalogue)
  DS1301: "declared source table not found in the live database",
  DS1302: "declared source column not found in the live database",
  DS1303: "declared source column has another type in the live database",
  DS1304: "live source table has a column the spec does not declare",
  DS1305: "live source database could not be read",
  // 2xxx: usage
  DS2001: "bad command line",
  DS2002: "no spec files found",
  DS2003: "output folder holds files gen did not write",
} as const;

export type Code = keyof typeof CODES;

/**
 * The hint a diagnostic carries when its check has nothing more specific to say: every diagnostic
 * tells the reader what to do next.
 */
export const DEFAULT_HINTS: Record<Code, string> = {
  DS1001: "the editor shows the same error; fix the spec's types",
  DS1002: "fix the statement at this position so the file runs",
  DS1003: 'import { definePipeline } from "dagspec"; export default definePipeline({ ... })',
  DS1004: "paths are relative to the spec file",
  DS1005: "rename it to letters, digits, '_', '.', '-' (e.g. daily_metrics.pipeline.ts)",
  DS1007: "this is a bug in gen; please report it with the spec file",
  DS1101: "see the field's documentation in the spec types (hover it in the editor)",
  DS1201: "ref() names a key of `models`",
  DS1202: "source() names a key of `source.tables`",
  DS1203: "break the cycle: a model cannot read, directly or not, from itself",
  DS1204: "name a declared model and one of its declared columns",
  DS1205: "name a column the report model declares and selects",
  DS1206: "pipeline ids are DAG ids and must be unique across spec files",
  DS1207: "fix the SQL at this position",
  DS1208: "declare the column in the source table, or stop reading it",
  DS1209: "deliverBy is a local time after the run's scheduled start",
  DS1210: "deliverBy must come before the next run starts",
  DS1211: "this is a compiler bug in lowering; please report it with the spec",
  DS1212: "it would be executed downstream; remove it",
  DS1213: 'example: "0 6 * * *" (06:00 every day)',
  DS1214: "timestamps without a zone cannot be placed in the pipeline's calendar day",
  DS1215: "schedule the run after the daylight-saving change hour (e.g. after 03:00)",
  DS1216: "declare the column in the table's columns",
  DS1217: "declare the column in the model's columns",
  DS1218: "source() names this pipeline's source.name",
  DS1219: "dayColumn names a column of the report model",
  DS1220: "select the column in the SQL, or remove it from columns",
  DS1221: "PostgreSQL names are at most 63 bytes",
  DS1222: "name the timestamptz column the application sets on every insert and update (e.g. updated_at)",
  DS1223: "set schedule.reportLagDays to 1, or keep the table as a snapshot",
  DS1224: "rename the column or model",
  DS1225: 'read q.current("<table>") for the rows as of the report day',
  DS1226: 'add an sla with engineers, or use corrections: "send"',
  DS1301: "compare the spec with the live catalogue (`gen introspect`)",
  DS1302: "compare the spec with the live catalogue (`gen introspect`)",
  DS1303: "compare the spec with the live catalogue (`gen introspect`)",
  DS1304: "declare the column, or leave it out on purpose",
  DS1305: "check the connection given to --against",
  DS2001: "run `gen --help`",
  DS2002: "spec files are named <name>.pipeline.ts",
  DS2003: "choose an empty folder or one holding only gen's output",
};
