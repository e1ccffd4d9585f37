/**
 * PostgreSQL catalogue types -> dagspec column types (src/spec/types.ts `ColumnType`), the closed
 * list the runtime's extract turns into Parquet (dagspec_runtime/spec.py). A type outside that list
 * comes back with the reason, so introspection can list it instead of dropping it.
 */
import type { CatalogColumn } from "./catalog.ts";

export type Mapped = { ok: true; type: string } | { ok: false; reason: string };

const DIRECT = new Set(["bigint", "integer", "smallint", "double precision", "real", "text", "boolean", "date", "uuid", "jsonb"]);

/** Arrow's decimal256 holds 76 digits: the runtime's limit for numeric(p,s). */
export const MAX_NUMERIC_PRECISION = 76;

export function mapColumnType(col: Pick<CatalogColumn, "type" | "kind" | "category">): Mapped {
  const t = col.type;
  if (col.category === "A") return { ok: false, reason: "arrays have no column type in dagspec; unnest them in a view and extract that" };
  if (col.kind === "e") return { ok: false, reason: "enum types are not extracted; cast to text in a view and extract that" };
  if (col.kind !== "b") return { ok: false, reason: "composite, range and pseudo types have no Parquet mapping in dagspec's extract" };
  if (DIRECT.has(t)) return { ok: true, type: t };
  if (/^character varying(\(\d+\))?$/.test(t)) return { ok: true, type: "varchar" };
  if (/^timestamp(\(\d\))? with time zone$/.test(t)) return { ok: true, type: "timestamptz" };
  if (/^timestamp(\(\d\))? without time zone$/.test(t)) return { ok: true, type: "timestamp" };
  const numeric = /^numeric\((\d+),(-?\d+)\)$/.exec(t);
  if (numeric) {
    const [p, s] = [Number(numeric[1]), Number(numeric[2])];
    if (p > MAX_NUMERIC_PRECISION) return { ok: false, reason: `numeric precision ${p} exceeds ${MAX_NUMERIC_PRECISION} (Parquet decimal256)` };
    if (s < 0 || s > p) return { ok: false, reason: "numeric with a negative scale or a scale above its precision has no Parquet decimal form" };
    return { ok: true, type: `numeric(${p},${s})` };
  }
  if (t === "numeric") return { ok: false, reason: "numeric without precision and scale has no fixed Parquet decimal type; declare numeric(p,s) or cast in a view" };
  if (t === "json") return { ok: false, reason: "json is not extracted (jsonb is): alter the column to jsonb or cast in a view" };
  if (/^character(\(\d+\))?$/.test(t)) return { ok: false, reason: "fixed-width character(n) pads with blanks; cast to text or varchar in a view" };
  return { ok: false, reason: `${t} has no Parquet mapping in dagspec's extract` };
}

/** Column types an incremental extract can use as its cursor (DS1214 in the compiler). */
export const CURSOR_TYPES: ReadonlySet<string> = new Set(["timestamptz", "date"]);
