/**
 * Reads a schema's tables from the live PostgreSQL catalogue (pg_catalog, not information_schema:
 * it has comments, domains' base types and index key order in one place). Everything comes back
 * sorted (tables by name, columns by position) so the module written from it is deterministic.
 */
import type pg from "pg";

export interface CatalogColumn {
  name: string;
  /** `format_type()` of the column's type; for a domain, of its base type. Example: `numeric(12,2)`. */
  type: string;
  /** pg_type.typtype of that type: b base, e enum, c composite, r range, m multirange, p pseudo. */
  kind: string;
  /** pg_type.typcategory: A for arrays. */
  category: string;
  notNull: boolean;
  comment: string | null;
}

export interface CatalogTable {
  schema: string;
  name: string;
  comment: string | null;
  columns: CatalogColumn[];
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey: string[];
  /** Columns that lead some index: a range scan on them (an incremental cursor) can use it. */
  indexLeading: string[];
}

type Queryable = Pick<pg.ClientBase, "query">;

const TABLES_SQL = `
select c.relname as name, obj_description(c.oid, 'pg_class') as comment
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname`;

const COLUMNS_SQL = `
select c.relname as table_name, a.attname as name, a.attnotnull as not_null,
       col_description(c.oid, a.attnum) as comment,
       format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid),
                   case when t.typbasetype <> 0 then t.typtypmod else a.atttypmod end) as type,
       coalesce(bt.typtype, t.typtype) as kind, coalesce(bt.typcategory, t.typcategory) as category
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_type bt on bt.oid = nullif(t.typbasetype, 0)
where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition and a.attnum > 0 and not a.attisdropped
order by c.relname, a.attnum`;

const INDEXES_SQL = `
select c.relname as table_name, i.indisprimary as is_primary,
       array(select a.attname from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
             join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
             order by k.ord)::text[] as columns
from pg_index i
join pg_class c on c.oid = i.indrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relkind in ('r', 'p')
order by c.relname, i.indisprimary desc, i.indexrelid::regclass::text`;

export async function readCatalog(client: Queryable, schema: string, only?: readonly string[]): Promise<CatalogTable[]> {
  const tables = await client.query<{ name: string; comment: string | null }>(TABLES_SQL, [schema]);
  const byName = new Map<string, CatalogTable>();
  for (const t of tables.rows) {
    if (only && !only.includes(t.name)) continue;
    byName.set(t.name, { schema, name: t.name, comment: t.comment, columns: [], primaryKey: [], indexLeading: [] });
  }
  const cols = await client.query<{ table_name: string; name: string; not_null: boolean; comment: string | null; type: string; kind: string; category: string }>(COLUMNS_SQL, [schema]);
  for (const c of cols.rows) {
    byName.get(c.table_name)?.columns.push({ name: c.name, type: c.type, kind: c.kind, category: c.category, notNull: c.not_null, comment: c.comment });
  }
  const idx = await client.query<{ table_name: string; is_primary: boolean; columns: string[] }>(INDEXES_SQL, [schema]);
  for (const i of idx.rows) {
    const t = byName.get(i.table_name);
    if (!t || !i.columns.length) continue;
    if (i.is_primary) t.primaryKey = i.columns;
    if (!t.indexLeading.includes(i.columns[0]!)) t.indexLeading.push(i.columns[0]!);
  }
  for (const t of byName.values()) t.indexLeading.sort();
  return [...byName.values()];
}
