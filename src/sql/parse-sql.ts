/**
 * Parses a model's SQL (PostgreSQL dialect, Jinja rendered away) and reports what it reads and
 * produces. node-sql-parser is a pure-JS parser; it accepts the SQL dbt sends to Postgres and DuckDB
 * for the constructs our specs use.
 */
// The PostgreSQL-only build: the package index bundles every dialect (2.5 MB of JS to load).
import sqlParser from "node-sql-parser/build/postgresql";
import { renderForParsing, type Rendered } from "./jinja.ts";

const parser = new sqlParser.Parser();

export interface SqlAnalysis {
  /** Columns as `table::column` (table = placeholder or null when unqualified). */
  columns: { table: string | null; column: string }[];
  /** Tables and CTE names in FROM clauses (placeholders for ref/source). */
  tables: string[];
  /** Output column names of the outermost SELECT, or null when it uses `*` or is not a SELECT. */
  outputs: string[] | null;
  /** Names introduced with AS anywhere in SELECT lists (usable in GROUP BY/ORDER BY, not table columns). */
  aliases: string[];
  /** The output column names, when every rendering dbt runs has the same, knowable ones (else null). */
  exactOutputs: string[] | null;
  /** The statement's syntax tree in each rendering dbt runs (incremental run, and full build if it differs). */
  asts: unknown[];
}

export type ParseResult = { ok: true; analysis: SqlAnalysis } | { ok: false; message: string; offset: number };

export function parseDbtSql(sql: string): ParseResult {
  // Both renderings dbt produces must parse: the full build (else branches) and the incremental run.
  const fullBuild = renderForParsing(sql, false);
  const rendered = renderForParsing(sql);
  const branches = fullBuild.sql !== rendered.sql;
  let fullAst: unknown;
  if (branches) {
    try {
      fullAst = parser.parse(fullBuild.sql, { database: "PostgresQL" }).ast;
    } catch (err) {
      return failure(err, fullBuild, "in a full build (is_incremental() false): ");
    }
  }
  let result: ReturnType<typeof parser.parse>;
  try {
    result = parser.parse(rendered.sql, { database: "PostgresQL" });
  } catch (err) {
    return failure(err, rendered, branches ? "in an incremental run: " : "");
  }
  const split = (entry: string) => {
    const [, table, column] = entry.split("::");
    return { table: !table || table === "null" ? null : table, column: column ?? "" };
  };
  const ast = Array.isArray(result.ast) ? result.ast[0] : result.ast;
  const statements = [result.ast, ...(branches ? [fullAst] : [])];
  return {
    ok: true,
    analysis: {
      columns: result.columnList.map(split).filter((c) => c.column !== "(.*)"),
      tables: result.tableList.map((t) => split(t).column),
      outputs: outputsOf(ast),
      exactOutputs: sameOutputs(statements),
      aliases: [...new Set([...JSON.stringify(result.ast).matchAll(/"as":"([^"]+)"/g)].map((m) => m[1] as string))].sort(),
      // A list means several statements: no single-query shape to resolve.
      asts: statements.map((s) => (Array.isArray(s) ? (s.length === 1 ? s[0] : null) : s)),
    },
  };
}

function failure(err: unknown, rendered: Rendered, when: string): ParseResult {
  const e = err as { message?: string; location?: { start?: { offset?: number } } };
  const offset = rendered.toOriginal(e.location?.start?.offset ?? 0);
  return { ok: false, message: `${when}${(e.message ?? String(err)).split("\n")[0] ?? "syntax error"}`, offset };
}

function sameOutputs(statements: unknown[]): string[] | null {
  const all = statements.map((s) => (Array.isArray(s) && s.length === 1 ? outputsOf(s[0]) : outputsOf(s)));
  const first = all[0] ?? null;
  return first && all.every((o) => o !== null && o.join("\0") === first.join("\0")) ? first : null;
}

function outputsOf(ast: unknown): string[] | null {
  const select = ast as { type?: string; columns?: unknown; _next?: unknown };
  if (!select || select.type !== "select" || !Array.isArray(select.columns)) return null;
  const names: string[] = [];
  for (const col of select.columns as { as?: string | null; expr?: { type?: string; column?: unknown } }[]) {
    if (col.as) {
      names.push(String(col.as));
      continue;
    }
    const c = col.expr?.column;
    const name = typeof c === "string" ? c : (c as { expr?: { value?: unknown } } | undefined)?.expr?.value;
    if (col.expr?.type !== "column_ref" || typeof name !== "string" || name === "*") return null;
    names.push(name);
  }
  return names;
}
