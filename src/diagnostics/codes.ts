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
  // 13xx: source drift, `gen build --against <conn>` (the spec against the live source catalogue)
  DS1301: "declared source table not found in the live database",
  DS1302: "declared source column not found in the live database",
  DS1303: "declared source column has another type in the live database",
  DS1304: "live source table has a column the spec does not declare",
  DS1305: "live source database could not be read",
  // 2xxx: usage
  DS2001: "bad command line",
  DS2002: "no spec files found",
} as const;

export type Code = keyof typeof CODES;
