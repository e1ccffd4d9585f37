/**
 * From catalogue rows to what `gen introspect` declares: dagspec column types, primary keys,
 * nullability, descriptions, incremental cursor candidates, and every column or table that cannot
 * be declared, with the reason. Pure: the module text and the JSON output are both rendered from it.
 */
import { IDENT } from "../spec/schema.ts";
import type { CatalogTable } from "./catalog.ts";
import { CURSOR_TYPES, mapColumnType } from "./type-map.ts";

export interface DeclaredColumn {
  name: string;
  type: string;
  pgType: string;
  notNull: boolean;
  comment: string | null;
}

export interface NotExtractable {
  column: string;
  pgType: string;
  reason: string;
}

export interface CursorCandidate {
  column: string;
  type: string;
  /** Leads an index: the day's range scan can use it. */
  indexed: boolean;
}

export interface IntrospectedTable {
  schema: string;
  name: string;
  description: string | null;
  columns: DeclaredColumn[];
  primaryKey: string[];
  cursorCandidates: CursorCandidate[];
  notExtractable: NotExtractable[];
  /** Why the table itself needs attention (no primary key, a primary key column not declarable). */
  problems: string[];
}

export interface SkippedTable {
  name: string;
  reason: string;
}

export interface Introspection {
  schema: string;
  tables: IntrospectedTable[];
  skipped: SkippedTable[];
}

/** dagspec descriptions are one line of at most 500 characters (src/spec/schema.ts). */
export function oneLineDescription(text: string | null): string | null {
  if (!text) return null;
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  if (!flat) return null;
  return flat.length <= 500 ? flat : `${flat.slice(0, 497)}...`;
}

export function introspect(schema: string, catalog: readonly CatalogTable[]): Introspection {
  const out: Introspection = { schema, tables: [], skipped: [] };
  for (const t of catalog) {
    if (!IDENT.test(t.name)) {
      out.skipped.push({ name: t.name, reason: "the table name needs quoting; dagspec names are lowercase letters, digits and underscores" });
      continue;
    }
    const table: IntrospectedTable = {
      schema,
      name: t.name,
      description: oneLineDescription(t.comment),
      columns: [],
      primaryKey: [],
      cursorCandidates: [],
      notExtractable: [],
      problems: [],
    };
    for (const c of t.columns) {
      const mapped = mapColumnType(c);
      if (!IDENT.test(c.name)) table.notExtractable.push({ column: c.name, pgType: c.type, reason: "the column name needs quoting; dagspec names are lowercase letters, digits and underscores" });
      else if (!mapped.ok) table.notExtractable.push({ column: c.name, pgType: c.type, reason: mapped.reason });
      else table.columns.push({ name: c.name, type: mapped.type, pgType: c.type, notNull: c.notNull, comment: c.comment });
    }
    const declared = new Set(table.columns.map((c) => c.name));
    if (!t.primaryKey.length) table.problems.push("no primary key: declare the columns that identify a row (extracts are ordered by them)");
    else if (t.primaryKey.some((k) => !declared.has(k))) table.problems.push(`primary key (${t.primaryKey.join(", ")}) has a column dagspec cannot extract: declare another unique key`);
    else table.primaryKey = [...t.primaryKey];
    table.cursorCandidates = table.columns
      .filter((c) => CURSOR_TYPES.has(c.type))
      .map((c) => ({ column: c.name, type: c.type, indexed: t.indexLeading.includes(c.name) }));
    if (!table.columns.length) {
      out.skipped.push({ name: t.name, reason: "no column dagspec can extract" });
      continue;
    }
    out.tables.push(table);
  }
  return out;
}
