/**
 * The fuzzer's seeds: every spec that builds cleanly among the golden cases and the repository's own
 * specs, loaded once and turned into plain data (SQL functions called with the typed helpers, SQL
 * files inlined), so a mutant can be written back as a self-contained spec file.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpec } from "../../src/load/load-spec.ts";
import { sqlHelpers } from "../../src/check/resolve-sql.ts";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Seed {
  name: string;
  spec: { [k: string]: Json };
}

function plainSql(sql: unknown, specDir: string, sourceName: string): Json {
  if (typeof sql === "function") return (sql as (q: unknown) => string)(sqlHelpers(sourceName));
  if (sql && typeof sql === "object" && "file" in sql) return readFileSync(join(specDir, String((sql as { file: string }).file)), "utf8");
  return sql as Json;
}

function toPlain(spec: Record<string, unknown>, specDir: string): { [k: string]: Json } {
  const source = spec.source as { name?: string } | undefined;
  const sourceName = source?.name ?? "app";
  const copy = JSON.parse(JSON.stringify(spec, (_k, v) => (typeof v === "function" ? { __fn: true } : v))) as { [k: string]: Json };
  const fix = (group: unknown, orig: unknown) => {
    for (const [name, node] of Object.entries((group ?? {}) as Record<string, { sql?: Json }>)) {
      const o = (orig as Record<string, { sql?: unknown }>)[name];
      if (o) node.sql = plainSql(o.sql, specDir, sourceName);
    }
  };
  fix(copy.models, spec.models);
  fix(copy.tests, spec.tests);
  return copy;
}

/** Seeds from test/cases/<name>/specs (cases with an expected tree only) and specs/. */
export async function loadSeeds(): Promise<Seed[]> {
  const roots: { name: string; root: string }[] = [{ name: "repo", root: REPO }];
  const cases = join(REPO, "test/cases");
  for (const c of readdirSync(cases).sort()) if (existsSync(join(cases, c, "expected/dags"))) roots.push({ name: c, root: join(cases, c) });
  const seeds: Seed[] = [];
  for (const { name, root } of roots) {
    for (const f of readdirSync(join(root, "specs")).filter((f) => f.endsWith(".pipeline.ts")).sort()) {
      const loaded = await loadSpec(root, `specs/${f}`);
      if (!loaded.ok) throw new Error(`seed ${name}/${f} does not load: ${loaded.diagnostic.message}`);
      seeds.push({ name: `${name}/${f}`, spec: toPlain(loaded.value, dirname(join(root, "specs", f))) });
    }
  }
  return seeds;
}

/** A spec file holding `spec` as a literal: JSON is valid TypeScript and escapes every character. */
export function specSource(spec: Json): string {
  return `import { definePipeline } from "dagspec";\n\nexport default definePipeline(${JSON.stringify(spec, null, 2)} as any);\n`;
}
