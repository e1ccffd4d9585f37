/**
 * Columns a model or singular test reads from `ref('m')` must be columns m selects: PostgreSQL
 * refuses the query otherwise (`column "x" does not exist`), on every run. Only queries that read
 * m alone, in the shape whose names resolve exactly (single-relation.ts), are checked, and only
 * when every rendering of m selects the same, knowable columns (no `*`, every expression named).
 * Source tables are checked by DS1208 (sql-refs.ts).
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import type { SqlDeps } from "./sql-refs.ts";

/** Columns every table has without declaring them: PostgreSQL's system columns, DuckDB's rowid. */
const SYSTEM_COLUMNS = new Set(["ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "rowid"]);

export function checkRefColumns(
  spec: CheckedSpec,
  owner: { kind: "model" | "test"; name: string },
  reader: SqlDeps,
  deps: ReadonlyMap<string, SqlDeps>,
  report: Reporter,
): void {
  const reported = new Set<string>();
  for (const query of reader.queries) {
    if (!query?.relation.startsWith("__ref__")) continue;
    const model = query.relation.slice("__ref__".length);
    const selects = Object.hasOwn(spec.models, model) ? deps.get(model)?.exactOutputs : null;
    if (!selects) continue;
    const known = new Set(selects.map((c) => c.toLowerCase()));
    for (const { name } of query.refs) {
      // An output alias (GROUP BY/ORDER BY may name one), a whole-row reference to the relation,
      // a system column, or Jinja rendered away for parsing: not a column the model selects.
      if (known.has(name) || query.outputAliases.includes(name) || SYSTEM_COLUMNS.has(name)) continue;
      if (name === query.alias || name === model || name === query.relation || name.startsWith("__jinja__")) continue;
      if (reported.has(name)) continue;
      reported.add(name);
      report.error(
        "DS1228",
        [`${owner.kind}s`, owner.name, "sql"],
        `${owner.kind} ${owner.name} reads ${model}.${name}, which ${model} does not select`,
        `${model} selects: ${selects.join(", ")}`,
      );
    }
  }
}
