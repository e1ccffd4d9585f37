/**
 * Cross-checks the SQL of models and singular tests against the spec: it must parse, its ref() and
 * source() calls must name declared models and tables, and columns it reads from a source table must
 * be declared there. Returns each node's dependencies for the graph check.
 */
import { PARTITION_COLUMN } from "../ir/types.ts";
import { jinjaRefs } from "../sql/jinja.ts";
import { parseDbtSql, type SqlAnalysis } from "../sql/parse-sql.ts";
import { singleRelationQuery, VALUE_FUNCTIONS, type SingleRelationQuery } from "../sql/single-relation.ts";
import { checkDbtJinja } from "../sql/jinja-allowlist.ts";
import { formatDbtSql } from "../sql/format-sql.ts";
import { lineColOf as lineCol, oneLineMessage, UNSAFE_SQL_CHAR } from "./sql-text.ts";
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import type { ResolvedSql } from "./resolve-sql.ts";
import { printable } from "../diagnostics/printable.ts";

export interface SqlDeps {
  refs: string[];
  sources: string[];
  /** Output columns of the outermost SELECT, when knowable. */
  outputs: string[] | null;
  /** Output columns when every rendering (incremental run, full build) selects the same, knowable ones. */
  exactOutputs: string[] | null;
  /**
   * The query in each rendering dbt runs (incremental run, full build) when it reads one relation
   * in the shape whose columns resolve exactly; null for a rendering of any other shape.
   */
  queries: (SingleRelationQuery | null)[];
}

export function checkSql(
  spec: CheckedSpec,
  owner: { kind: "model" | "test"; name: string },
  sql: ResolvedSql,
  path: (string | number)[],
  report: Reporter,
): SqlDeps | undefined {
  const what = `${owner.kind} ${owner.name}`;
  const fail = (code: "DS1207" | "DS1212", offset: number, msg: string, hint: string) => {
    const at = lineCol(sql.text, offset);
    if (sql.file) report.at({ code, file: sql.file, path: path.join("."), ...at, message: `${what}: ${msg}`, hint });
    else report.error(code, path, `${what}: ${msg}`, `${hint} (line ${at.line} of the SQL)`);
    return undefined;
  };
  const bad = UNSAFE_SQL_CHAR.exec(sql.text);
  if (bad) return fail("DS1207", bad.index, `SQL holds the character ${printable(bad[0])}, which SQL tools read differently`, "use plain spaces and newlines");
  const problem = checkDbtJinja(sql.text);
  if (problem) {
    const code = problem.kind === "syntax" ? "DS1207" : "DS1212";
    const msg = `${what}: ${problem.message}`;
    const at = lineCol(sql.text, problem.offset);
    if (sql.file) report.at({ code, file: sql.file, path: path.join("."), ...at, message: msg, hint: problem.hint });
    else report.error(code, path, msg, `${problem.hint} (line ${at.line} of the SQL)`);
    return undefined;
  }
  const refs = new Set<string>();
  const sources = new Set<string>();
  for (const r of jinjaRefs(sql.text)) {
    if (r.kind === "ref") {
      const name = r.args[0] ?? "";
      if (!Object.hasOwn(spec.models, name)) {
        const known = Object.keys(spec.models).sort().join(", ");
        report.error("DS1201", path, `${what}: ref('${name}') names no model of this pipeline`, `models: ${known}`);
      } else refs.add(name);
    } else {
      const [sourceName = "", table = ""] = r.args;
      if (sourceName !== spec.source.name) {
        report.error("DS1218", path, `${what}: source('${sourceName}', ...) is unknown`, `this pipeline's source is '${spec.source.name}'`);
      } else if (!Object.hasOwn(spec.source.tables, table)) {
        const known = Object.keys(spec.source.tables).sort().join(", ");
        report.error("DS1202", path, `${what}: source('${sourceName}', '${table}') names no declared table`, `tables: ${known}`);
      } else sources.add(table);
    }
  }
  const parsed = parseDbtSql(sql.text);
  if (!parsed.ok) {
    const msg = `${what}: SQL does not parse: ${oneLineMessage(parsed.message)}`;
    if (sql.file) report.at({ code: "DS1207", file: sql.file, path: path.join("."), ...lineCol(sql.text, parsed.offset), message: msg, hint: "fix the SQL at this position" });
    else report.error("DS1207", path, msg, `near line ${lineCol(sql.text, parsed.offset).line} of the SQL`);
    return undefined;
  }
  try {
    formatDbtSql(sql.text);
  } catch (err) {
    // The formatter rejects some SQL the parser accepts (backtick identifiers, dollar quoting).
    return fail("DS1207", 0, `SQL cannot be laid out by the SQL formatter: ${oneLineMessage(err instanceof Error ? err.message : err)}`, "rewrite the construct the formatter names in plain PostgreSQL");
  }
  checkSourceColumns(spec, parsed.analysis, sources, what, path, report);
  // Bad references were reported above; the valid ones still feed the graph and later checks.
  return { refs: [...refs].sort(), sources: [...sources].sort(), outputs: parsed.analysis.outputs, exactOutputs: parsed.analysis.exactOutputs, queries: parsed.analysis.asts.map(singleRelationQuery) };
}

function checkSourceColumns(
  spec: CheckedSpec,
  analysis: SqlAnalysis,
  sources: Set<string>,
  what: string,
  path: (string | number)[],
  report: Reporter,
): void {
  const placeholder = (t: string) => `__src__${spec.source.name}__${t}`;
  const byPlaceholder = new Map([...sources].map((t) => [placeholder(t), t]));
  // Unqualified columns can be attributed only when the query reads exactly one relation and no
  // FROM item is a function (unnest(a) as u(v), generate_series(...)) that brings its own columns.
  const soleTable = analysis.tables.length === 1 && !analysis.fromFunctions ? byPlaceholder.get(analysis.tables[0] ?? "") : undefined;
  const aliases = new Set(analysis.aliases.map((a) => a.toLowerCase()));
  const reported = new Set<string>();
  for (const c of analysis.columns) {
    // An unquoted, unqualified current_date, localtimestamp, user, ... is a function, not a column.
    if (c.bareWord && VALUE_FUNCTIONS.has(c.column)) continue;
    const table = c.qualified ? (c.table ? byPlaceholder.get(c.table) : undefined) : !aliases.has(c.column.toLowerCase()) ? soleTable : undefined;
    if (!table) continue;
    const declared = spec.source.tables[table]?.columns ?? {};
    if (Object.hasOwn(declared, c.column) || c.column === PARTITION_COLUMN || reported.has(`${table}.${c.column}`)) continue;
    reported.add(`${table}.${c.column}`);
    report.error(
      "DS1208",
      path,
      `${what} reads ${table}.${c.column}, which source.tables.${table}.columns does not declare`,
      `declared: ${Object.keys(declared).sort().join(", ")}`,
    );
  }
}
