import { format } from "sql-formatter";
import { protectTags } from "./jinja.ts";

/**
 * Formats dbt SQL deterministically: lowercase keywords, 4-space indent, `{{ }}` kept verbatim as
 * opaque tokens, `{% %}` tags on lines of their own. Throws when the SQL cannot be tokenised; the
 * caller has already parsed it, so that would be a bug, not a user error.
 */
export function formatDbtSql(sql: string): string {
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
