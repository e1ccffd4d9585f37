/**
 * The invariant every spec must meet, checked in-process: the build ends, without throwing, in
 * exactly one of two ways. Either diagnostics (each with file:line:col, a known code and a hint,
 * printable on its own lines, no internal error) and no files; or files that carry no spec-made
 * Jinja and no text that cannot be written as UTF-8. The consumers (Airflow, ruff, dbt) judge the
 * files in batches: see test/python/test_fuzz_consumers.py.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { build } from "../../src/build/build.ts";
import { CODES } from "../../src/diagnostics/codes.ts";
import { renderText } from "../../src/diagnostics/render.ts";
import type { Json } from "./corpus.ts";
import { specSource } from "./corpus.ts";

export interface Outcome {
  kind: "diagnostics" | "files";
  violations: string[];
  files: Map<string, string>;
  codes: string[];
}

/** Jinja the generated dbt files may hold: what the allowlist lets specs write, and gen's own. */
const OWN_JINJA = [
  /^\{\{ (ref|source)\((?:'[^']*'(?:, )?)+\) \}\}$/,
  /^\{\{ var\(["']ds["']\) \}\}$/,
  /^\{\{ this \}\}$/,
  /^\{% (if is_incremental\(\)|else|endif) %\}$/,
  /^\{\{ config\(severity='warn'\) \}\}$/,
  // A range build's forms (emit/dbt/range-build.ts); the names in them are checked identifiers.
  /^\{% call\(day\) dagspec_each_day\((partition_column='[A-Za-z_][A-Za-z0-9_]*')?\) %\}$/,
  /^\{% endcall %\}$/,
  /^\{% (if dagspec_range_build\(\)|else|endif) %\}$/,
  /^\{\{ (day|dagspec_days\(\)\[0\]) \}\}$/,
  /^\{\{ dagspec_as_of_day\('[A-Za-z_][A-Za-z0-9_]*', day\) \}\}$/,
];

function jinjaViolations(path: string, text: string): string[] {
  if (!path.startsWith("dbt/") || /\/(profiles|dbt_project|sources)\.yml$|\/macros\//.test(path)) return [];
  const out: string[] = [];
  for (const m of text.matchAll(/\{\{.*?\}\}|\{%.*?%\}/gs)) {
    const tok = m[0].replace(/\s+/g, " ").replace(/^\{\{-? ?/, "{{ ").replace(/ ?-?\}\}$/, " }}").replace(/^\{%-? ?/, "{% ").replace(/ ?-?%\}$/, " %}");
    if (!OWN_JINJA.some((r) => r.test(tok))) out.push(`${path}: spec-made Jinja ${JSON.stringify(m[0].slice(0, 80))}`);
  }
  if (/env_var/.test(text)) out.push(`${path}: env_var outside profiles/sources`);
  return out;
}

export async function judge(spec: Json, fileName = "fuzz.pipeline.ts"): Promise<Outcome> {
  const root = mkdtempSync(join(tmpdir(), "dagspec-fuzz-"));
  const violations: string[] = [];
  try {
    mkdirSync(join(root, "specs"));
    writeFileSync(join(root, "specs", fileName), specSource(spec));
    let result: Awaited<ReturnType<typeof build>>;
    try {
      result = await build({ root, specDir: "specs", skipTypecheck: true });
    } catch (err) {
      return { kind: "diagnostics", violations: [`build threw: ${(err as Error).stack ?? String(err)}`], files: new Map(), codes: [] };
    }
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    if (errors.length) {
      if (result.files.size) violations.push("files returned alongside errors");
      for (const d of result.diagnostics) {
        const where = `${d.code} ${JSON.stringify(d.message).slice(0, 200)}`;
        if (!(d.code in CODES)) violations.push(`unknown code: ${where}`);
        if (d.code === "DS1007") violations.push(`internal error: ${where}`);
        if (!d.file || !(Number(d.line) >= 1) || !(Number(d.col) >= 1)) violations.push(`no file:line:col: ${where}`);
        if (!d.hint) violations.push(`no hint: ${where}`);
        const lines = renderText([d]).split("\n").filter(Boolean);
        if (lines.length !== 2 || /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]|[\uD800-\uDFFF]/u.test(lines.join(""))) violations.push(`unprintable diagnostic: ${where}`);
      }
      return { kind: "diagnostics", violations, files: new Map(), codes: [...new Set(errors.map((d) => d.code))] };
    }
    if (!result.files.size) violations.push("no errors and no files");
    for (const [path, text] of result.files) {
      if (/[\uD800-\uDFFF]/u.test(text)) violations.push(`${path}: lone surrogate`);
      if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) violations.push(`${path}: control character`);
      violations.push(...jinjaViolations(path, text));
    }
    return { kind: "files", violations, files: result.files, codes: [] };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
