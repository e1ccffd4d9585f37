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
  /**
   * Every column reference (table = the placeholder or table its qualifier names, null when
   * unqualified or when the qualifier is ambiguous; column = the name PostgreSQL looks up: folded
   * to lower case unless quoted). `bareWord` marks an unqualified, unquoted name.
   */
  columns: { table: string | null; column: string; qualified: boolean; bareWord: boolean }[];
  /** True when some FROM item (anywhere) is not a table: a function such as unnest(), VALUES, ... */
  fromFunctions: boolean;
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
      ...columnsOf(result.ast),
      tables: result.tableList.map((t) => split(t).column),
      outputs: outputsOf(ast, rendered.sql),
      exactOutputs: sameOutputs(statements, [rendered.sql, fullBuild.sql]),
      aliases: aliasesOf(result.ast),
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

function sameOutputs(statements: unknown[], texts: string[]): string[] | null {
  const all = statements.map((s, i) => (Array.isArray(s) && s.length === 1 ? outputsOf(s[0], texts[i] ?? "") : outputsOf(s, texts[i] ?? "")));
  const first = all[0] ?? null;
  return first && all.every((o) => o !== null && o.join("\0") === first.join("\0")) ? first : null;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** A column_ref's name and whether it was quoted (`"Amount"`), or null for `*` and other forms. */
function columnName(column: unknown): { name: string; quoted: boolean } | null {
  if (typeof column === "string") return column === "*" ? null : { name: column, quoted: false };
  const e = isNode(column) && isNode(column.expr) ? column.expr : undefined;
  if (!e || typeof e.value !== "string" || e.value === "*") return null;
  return { name: e.value, quoted: e.type === "double_quote_string" };
}

/** PostgreSQL folds unquoted identifiers to lower case; quoted ones are kept as written. */
const lookedUp = (c: { name: string; quoted: boolean }) => (c.quoted ? c.name : c.name.toLowerCase());

function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (isNode(node)) {
    visit(node);
    Object.values(node).forEach((v) => walk(v, visit));
  }
}

/**
 * Names introduced with AS (select-list and relation aliases), and the column names of an alias's
 * column list (`unnest(a) as u(v)`, `from t as x(a, b)`): such names are not columns of a table.
 */
function aliasesOf(ast: unknown): string[] {
  const names = new Set<string>();
  walk(ast, (n) => {
    if (typeof n.as !== "string") return;
    const m = /^([^(]*)\((.*)\)$/s.exec(n.as);
    if (!m) names.add(n.as);
    else {
      names.add((m[1] ?? "").trim());
      for (const c of (m[2] ?? "").split(",")) names.add(c.trim().replace(/^"(.*)"$/s, "$1"));
    }
  });
  names.delete("");
  return [...names].sort();
}

/** Every column reference with its qualifier resolved through the FROM aliases of the statement. */
function columnsOf(ast: unknown): Pick<SqlAnalysis, "columns" | "fromFunctions"> {
  // Qualifier (folded) -> table; a qualifier naming two different tables anywhere is ambiguous (null).
  const relations = new Map<string, string | null>();
  let fromFunctions = false;
  walk(ast, (n) => {
    if (!Array.isArray(n.from)) return;
    for (const f of n.from) {
      if (!isNode(f)) continue;
      if (typeof f.table !== "string") {
        fromFunctions = true;
        continue;
      }
      const as = typeof f.as === "string" ? f.as.replace(/\(.*$/s, "").trim() : "";
      for (const q of new Set([(as || f.table).toLowerCase()])) {
        const prev = relations.get(q);
        relations.set(q, prev === undefined || prev === f.table ? f.table : null);
      }
    }
  });
  const columns: SqlAnalysis["columns"] = [];
  walk(ast, (n) => {
    if (n.type !== "column_ref") return;
    const c = columnName(n.column);
    if (!c) return;
    const qualified = typeof n.table === "string" && n.table !== "";
    const table = qualified ? (relations.get((n.table as string).toLowerCase()) ?? null) : null;
    if (qualified && table === null) return;
    columns.push({ table, column: lookedUp(c), qualified, bareWord: !qualified && !c.quoted });
  });
  return { columns, fromFunctions };
}

/**
 * Output column names of a SELECT as PostgreSQL names them. The parser drops the quotes of an AS
 * alias, so a mixed-case alias counts as quoted when the SQL text holds it in double quotes.
 */
function outputsOf(ast: unknown, text: string): string[] | null {
  const select = ast as { type?: string; columns?: unknown; _next?: unknown };
  if (!select || select.type !== "select" || !Array.isArray(select.columns)) return null;
  const names: string[] = [];
  for (const col of select.columns as { as?: string | null; expr?: { type?: string; column?: unknown } }[]) {
    if (col.as) {
      const as = String(col.as);
      names.push(text.includes(`"${as}"`) ? as : as.toLowerCase());
      continue;
    }
    const c = col.expr?.type === "column_ref" ? columnName(col.expr.column) : null;
    if (!c) return null;
    names.push(lookedUp(c));
  }
  return names;
}
