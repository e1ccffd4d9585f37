/**
 * The local modules a spec imports (`./sources/app.ts`, a shared `../specs/base.pipeline.ts`),
 * transitively, so the spec hash changes when any of them does: a re-introspected source module
 * changes what a spec declares without touching the spec file. A scan of import specifiers, not a
 * TypeScript parse (the build keeps the compiler off its main thread); a specifier-like text in a
 * comment at worst adds a file to the hash.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"'\n]+)["']/g;
const CANDIDATES = ["", ".ts", ".mts", ".js", ".mjs", "/index.ts"];

function resolveLocal(fromFile: string, spec: string): string | undefined {
  for (const ext of CANDIDATES) {
    const p = resolve(dirname(fromFile), spec + ext);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

/** Root-relative POSIX paths of the local modules `file` imports, directly or not; sorted. */
export function localImports(root: string, file: string): string[] {
  const start = resolve(root, file);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    const current = queue.pop()!;
    for (const m of readFileSync(current, "utf8").matchAll(SPECIFIER)) {
      const found = resolveLocal(current, m[1]!);
      if (found && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  seen.delete(start);
  return [...seen].map((p) => relative(root, p).split("\\").join("/")).sort();
}

