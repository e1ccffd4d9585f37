/**
 * Turns each model's and test's `sql` (text, `{ file }`, or a function of typed helpers) into dbt SQL
 * text. Functions are called here, once, with helpers that write the Jinja dbt expects.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Reporter } from "./context.ts";

export type SqlInput = string | { file: string } | ((q: unknown) => string);

export interface ResolvedSql {
  text: string;
  /** The .sql file the text came from (repository-relative), or null when inline. */
  file: string | null;
}

export function sqlHelpers(sourceName: string) {
  return {
    source: (table: string) => `{{ source('${sourceName}', '${table}') }}`,
    ref: (model: string) => `{{ ref('${model}') }}`,
    ds: `'{{ var("ds") }}'`,
    ifIncremental: (sql: string) => `{% if is_incremental() %} ${sql} {% endif %}`,
  };
}

export function resolveSql(
  input: SqlInput,
  ctx: { root: string; specFile: string; sourceName: string; path: (string | number)[]; report: Reporter },
): ResolvedSql | undefined {
  if (typeof input === "string") return { text: input, file: null };
  if (typeof input === "function") {
    try {
      const text = input(sqlHelpers(ctx.sourceName));
      if (typeof text === "string") return { text, file: null };
      ctx.report.error("DS1101", ctx.path, "sql function must return a string");
    } catch (err) {
      ctx.report.error("DS1101", ctx.path, `sql function threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    return undefined;
  }
  const abs = join(ctx.root, dirname(ctx.specFile), input.file);
  const rel = relative(ctx.root, abs).split("\\").join("/");
  if (rel.startsWith("..") || !existsSync(abs)) {
    ctx.report.error("DS1004", [...ctx.path, "file"], `SQL file not found: ${rel}`, "paths are relative to the spec file");
    return undefined;
  }
  return { text: readFileSync(abs, "utf8"), file: rel };
}
