import { format } from "sql-formatter";
import { protectTags } from "./jinja.ts";

/**
 * Formats dbt SQL deterministically: lowercase keywords, 4-space indent, `{{ }}` kept verbatim as
 * opaque tokens, `{% %}` tags on lines of their own. Throws when the SQL cannot be tokenised; the
 * checks call it first and report that as a diagnostic (the formatter rejects some SQL the parser
 * accepts), so lowering never meets a throw.
 */
export function formatDbtSql(sql: string): string {
  // Checks format each model once to prove it can be laid out; lowering then reuses the result.
  const known = formatted.get(sql);
  if (known !== undefined) return known;
  if (formatted.size > 1000) formatted.clear();
  const out = formatUncached(sql);
  formatted.set(sql, out);
  return out;
}

const formatted = new Map<string, string>();  // bounded: cleared past 1000 entries

function formatUncached(sql: string): string {
  const tags = protectTags(sql);
  const formatted = format(tags.sql, {
    language: "postgresql",
    keywordCase: "lower",
    tabWidth: 4,
    linesBetweenQueries: 1,
    paramTypes: { custom: [{ regex: String.raw`\{\{[\s\S]*?\}\}` }] },
  });
  return `${tags.restore(formatted).trimEnd()}\n`;
}

/** Formats the sensor's readiness query, keeping psycopg's `%(name)s` parameters intact. */
export function formatReadinessSql(sql: string): string {
  return format(sql, {
    language: "postgresql",
    keywordCase: "lower",
    tabWidth: 4,
    paramTypes: { custom: [{ regex: String.raw`%\(\w+\)s` }] },
  }).trimEnd();
}
