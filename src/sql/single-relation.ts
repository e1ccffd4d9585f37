/**
 * The one query shape whose column names can be resolved exactly without a catalogue: a single
 * SELECT reading a single relation (a ref or source placeholder), with no WITH, no set operation,
 * no join, no subquery anywhere, and nothing in FROM but the relation and its alias. Every column
 * such a query names is then either a column of that relation or an output alias; anything else
 * (CTEs that shadow, lateral functions, derived tables, correlated subqueries) can bring names into
 * scope that this module cannot see, so it answers null and the checks built on it stay silent.
 */

/** A column a query names, folded to lower case (names are compared case-insensitively). */
export interface ColumnRef {
  qualifier: string | null;
  name: string;
}

export interface SingleRelationQuery {
  /** The placeholder of the relation read (`__ref__<model>` or `__src__<source>__<table>`). */
  relation: string;
  alias: string | null;
  /** Every column reference, in the select list, WHERE, GROUP BY, HAVING, ORDER BY and windows. */
  refs: ColumnRef[];
  /** Names given with AS in the select list: GROUP BY and ORDER BY may name them instead of a column. */
  outputAliases: string[];
  /**
   * Each output column in order: its name and, when it is a bare column of the relation (`col`,
   * `t.col`, `col as alias`), that column's name; null for any other expression.
   */
  projections: { name: string | null; column: string | null }[];
  /**
   * Each output row comes from one row of the relation alone: no GROUP BY, HAVING, DISTINCT,
   * ORDER BY or LIMIT, no aggregate dbt's parser knows and no window function anywhere. (An
   * aggregate it takes for a plain function would still make a query that selects a column beside
   * it fail, not return other rows.)
   */
  rowWise: boolean;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** The name in a column_ref's `column` field (a string, or `{ expr: { value } }`), or null. */
function columnName(column: unknown): string | null {
  if (typeof column === "string") return column;
  const value = isNode(column) && isNode(column.expr) ? column.expr.value : undefined;
  return typeof value === "string" ? value : null;
}

/** True when a nested SELECT (subquery, CTE, derived table) appears anywhere under `node`. */
function hasNestedSelect(node: unknown, root: unknown): boolean {
  if (Array.isArray(node)) return node.some((n) => hasNestedSelect(n, root));
  if (!isNode(node)) return false;
  if (node !== root && (node.type === "select" || "ast" in node)) return true;
  return Object.values(node).some((v) => hasNestedSelect(v, root));
}

/**
 * PostgreSQL's functions called without parentheses (SQL value functions): the parser reads some of
 * them as column names, and PostgreSQL prefers the function even where a column has that name.
 */
export const VALUE_FUNCTIONS: ReadonlySet<string> = new Set([
  "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
  "current_user", "localtime", "localtimestamp", "session_user", "system_user", "user",
]);

function collectRefs(node: unknown, out: ColumnRef[]): boolean {
  if (Array.isArray(node)) return node.every((n) => collectRefs(n, out));
  if (!isNode(node)) return true;
  if (node.type === "column_ref") {
    const name = columnName(node.column);
    if (name === null) return false;
    const fn = !node.table && VALUE_FUNCTIONS.has(name.toLowerCase());
    if (name !== "*" && !fn) out.push({ qualifier: typeof node.table === "string" ? node.table.toLowerCase() : null, name: name.toLowerCase() });
    return typeof node.table === "string" || node.table === null || node.table === undefined;
  }
  return Object.values(node).every((v) => collectRefs(v, out));
}

export function singleRelationQuery(ast: unknown): SingleRelationQuery | null {
  if (!isNode(ast) || ast.type !== "select" || ast.with || ast._next || ast.set_op) return null;
  const from = ast.from;
  if (!Array.isArray(from) || from.length !== 1 || !isNode(from[0])) return null;
  const f = from[0];
  const allowed = new Set(["db", "table", "as", "schema"]);
  if (typeof f.table !== "string" || f.db || f.schema || Object.keys(f).some((k) => !allowed.has(k))) return null;
  if (!/^__(ref|src)__/.test(f.table)) return null;
  // `as t(a, b)` renames the relation's columns: the parser keeps the list inside the alias.
  if (f.as !== null && f.as !== undefined && (typeof f.as !== "string" || /[(),\s]/.test(f.as))) return null;
  if (hasNestedSelect(ast, ast)) return null;
  const refs: ColumnRef[] = [];
  if (!collectRefs(ast, refs)) return null;
  const alias = typeof f.as === "string" ? f.as.toLowerCase() : null;
  const own = (q: string | null) => q === null || q === (alias ?? f.table);
  // A qualifier naming anything else (a schema, a composite field) is beyond this module.
  if (refs.some((r) => !own(r.qualifier))) return null;
  if (!Array.isArray(ast.columns)) return null;
  const projections: SingleRelationQuery["projections"] = [];
  const outputAliases: string[] = [];
  for (const col of ast.columns) {
    if (!isNode(col)) return null;
    const as = typeof col.as === "string" ? col.as.toLowerCase() : null;
    if (as) outputAliases.push(as);
    const expr = col.expr;
    const bare = isNode(expr) && expr.type === "column_ref" && own(typeof expr.table === "string" ? expr.table.toLowerCase() : null) ? columnName(expr.column) : null;
    const qualified = isNode(expr) && typeof expr.table === "string";
    const column = bare && bare !== "*" && (qualified || !VALUE_FUNCTIONS.has(bare.toLowerCase())) ? bare.toLowerCase() : null;
    projections.push({ name: as ?? column, column });
  }
  const clauses = ["groupby", "having", "distinct", "window", "orderby", "limit"];
  const present = (k: string) => {
    const v = ast[k];
    if (isNode(v) && k === "limit") return Array.isArray(v.value) && v.value.length > 0;
    if (isNode(v) && k === "groupby") return Array.isArray(v.columns) && v.columns.length > 0;
    if (isNode(v) && k === "distinct") return v.type !== null && v.type !== undefined;
    return v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0);
  };
  const rowWise = !clauses.some(present) && !aggregates([ast.columns, ast.where]);
  return { relation: f.table, alias, refs, outputAliases, projections, rowWise };
}

/** Whether an aggregate or a window function is anywhere in the nodes. */
function aggregates(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(aggregates);
  if (!isNode(v)) return false;
  if (v.type === "aggr_func" || (v.over !== null && v.over !== undefined)) return true;
  return Object.values(v).some(aggregates);
}
