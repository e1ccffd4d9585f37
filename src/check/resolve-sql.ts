/**
 * Turns each model's and test's `sql` (text, `{ file }`, or a function of typed helpers) into dbt SQL
 * text. Functions are called here, once, with helpers that write the Jinja dbt expects.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Reporter } from "./context.ts";
import { printableMessage } from "../diagnostics/printable.ts";

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
    current: (table: string) => `{{ ref('${table}_current') }}`,
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
      ctx.report.error("DS1101", ctx.path, `sql function threw: ${oneLineText(err)}`, "the function is called once at build time with the typed helpers");
    }
    return undefined;
  }
  const abs = join(ctx.root, dirname(ctx.specFile), input.file);
  const rel = relative(ctx.root, abs).split("\\").join("/");
  if (rel.startsWith("..") || !statSync(abs, { throwIfNoEntry: false })?.isFile()) {
    const what = statSync(abs, { throwIfNoEntry: false })?.isDirectory() ? "is a folder, not a file" : "not found";
    ctx.report.error("DS1004", [...ctx.path, "file"], `SQL file ${what}: ${rel}`, "paths are relative to the spec file and stay inside the project");
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (err) {
    ctx.report.error("DS1004", [...ctx.path, "file"], `SQL file cannot be read: ${rel}: ${(err as Error).message}`, "check the file's permissions");
    return undefined;
  }
  return { text, file: rel };
}

/** What a thrown value says, on one line with anything unprintable escaped. */
function oneLineText(err: unknown): string {
  try {
    return printableMessage(err);
  } catch {
    return "a value that cannot be printed";
  }
}
