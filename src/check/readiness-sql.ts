/**
 * The readiness query runs through psycopg on the source connection, with the run's day bounds as
 * parameters. It is checked like model SQL before anything is written: it must parse, name only
 * parameters the sensor supplies, and be laid out by the formatter (which rejects some SQL the
 * parser accepts).
 */
// The PostgreSQL-only build: the package index bundles every dialect (2.5 MB of JS to load).
import sqlParser from "node-sql-parser/build/postgresql";
import { formatReadinessSql } from "../sql/format-sql.ts";
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import { lineColOf, oneLineMessage } from "./sql-text.ts";

const parser = new sqlParser.Parser();
/** The parameters the runtime's readiness sensor passes (see dagspec_runtime.tasks). */
export const READINESS_PARAMS = ["report_day", "day_start", "day_end"] as const;
const PARAM = /%\((\w*)\)s/g;

export function checkReadinessSql(spec: CheckedSpec, report: Reporter): void {
  const sql = spec.source.readiness.sql;
  const path = ["source", "readiness", "sql"];
  for (const m of sql.matchAll(PARAM)) {
    if (!(READINESS_PARAMS as readonly string[]).includes(m[1] ?? ""))
      report.error("DS1207", path, `readiness SQL uses parameter %(${m[1]})s, which the sensor does not pass`, `parameters: ${READINESS_PARAMS.map((p) => `%(${p})s`).join(", ")}`);
  }
  // psycopg reads every other % as a placeholder; a literal percent sign is written %%.
  const stray = /%(?!\(\w*\)s|%)/.exec(sql.replace(/%%/g, ""));
  if (stray) report.error("DS1207", path, "readiness SQL has a '%' that psycopg would read as a parameter", "write a literal percent sign as %%, parameters as %(report_day)s");
  // Each parameter becomes a same-length string literal so positions stay put.
  const forParser = sql.replace(PARAM, (p) => `'${"x".repeat(p.length - 2)}'`).replace(/%%/g, "%");
  try {
    parser.parse(forParser, { database: "PostgresQL" });
  } catch (err) {
    const e = err as { message?: string; location?: { start?: { offset?: number } } };
    const at = lineColOf(sql, e.location?.start?.offset ?? 0);
    report.error("DS1207", path, `readiness SQL does not parse: ${oneLineMessage(e.message ?? err)}`, `near line ${at.line} of the SQL`);
    return;
  }
  try {
    formatReadinessSql(sql);
  } catch (err) {
    report.error("DS1207", path, `readiness SQL cannot be laid out by the SQL formatter: ${oneLineMessage(err instanceof Error ? err.message : err)}`, "simplify the construct the formatter names");
  }
}
