/**
 * The declared type of a model's output column, where it can be traced exactly: the column is a
 * bare column (`col`, `t.col`, `col as alias`) of the one relation its model reads (see
 * single-relation.ts), and that relation is a declared source table (its declared type; `ds` is the
 * date the lake adds), a model the compiler generates (whose column types it knows), or a model
 * whose column traces in turn. Anything else (an expression, a cast,
 * a join, renderings that disagree, a generated model) has no traced type, and nothing is checked.
 */
import { PARTITION_COLUMN } from "../ir/types.ts";
import type { CheckedSpec } from "../spec/schema.ts";
import type { SqlDeps } from "./sql-refs.ts";
import type { SingleRelationQuery } from "../sql/single-relation.ts";

export interface TracedType {
  type: string;
  /** Where the type is declared: `source.tables.<t>.columns.<c>` or the lake's partition column. */
  origin: string;
}

/** The one query shape shared by every rendering of a model, or null. */
export function soleQuery(deps: SqlDeps | undefined): SingleRelationQuery | null {
  const [first, ...rest] = deps?.queries ?? [];
  if (!first) return null;
  const same = (q: SingleRelationQuery | null) => q !== null && q.relation === first.relation && JSON.stringify(q.projections) === JSON.stringify(first.projections);
  return rest.every(same) ? first : null;
}

export function columnTypeTracer(
  spec: CheckedSpec,
  deps: ReadonlyMap<string, SqlDeps>,
  generatedTypes: ReadonlyMap<string, Record<string, TracedType>>,
): (model: string, column: string) => TracedType | null {
  const sourcePrefix = `__src__${spec.source.name}__`;
  const visiting = new Set<string>();
  const trace = (model: string, column: string): TracedType | null => {
    const key = `${model}.${column}`;
    // A cycle is reported elsewhere (DS1203); here it only has to end.
    if (visiting.has(key)) return null;
    const generated = generatedTypes.get(model);
    if (generated) return Object.hasOwn(generated, column) ? (generated[column] as TracedType) : null;
    const query = soleQuery(deps.get(model));
    const projection = query?.projections.filter((p) => p.name === column.toLowerCase());
    const from = projection?.length === 1 ? projection[0]?.column : null;
    if (!query || !from) return null;
    if (query.relation.startsWith(sourcePrefix)) {
      const table = query.relation.slice(sourcePrefix.length);
      const columns = Object.hasOwn(spec.source.tables, table) ? spec.source.tables[table]?.columns : undefined;
      if (!columns) return null;
      if (Object.hasOwn(columns, from)) return { type: columns[from] as string, origin: `source.tables.${table}.columns.${from}` };
      return from === PARTITION_COLUMN ? { type: "date", origin: `the lake's partition column ${PARTITION_COLUMN} of ${table}` } : null;
    }
    const upstream = query.relation.replace(/^__ref__/, "");
    if (upstream === query.relation || !Object.hasOwn(spec.models, upstream)) return null;
    visiting.add(key);
    try {
      return trace(upstream, from);
    } finally {
      visiting.delete(key);
    }
  };
  return trace;
}
