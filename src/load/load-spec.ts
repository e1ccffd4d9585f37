/**
 * The one place TypeScript specs are executed. jiti runs them without a build step; its module
 * cache is off so a watch loop or a second build in the same process sees edits. Its file cache of
 * transpiled sources stays on: entries are keyed by a hash of the source text, so an edit is a miss.
 */
import { createJiti } from "jiti";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { isPipeline } from "../spec/define.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { printableMessage } from "../diagnostics/printable.ts";

const PACKAGE_ENTRY = fileURLToPath(new URL("../index.ts", import.meta.url));

export type LoadResult = { ok: true; value: Record<string, unknown> } | { ok: false; diagnostic: Diagnostic };

export async function loadSpec(root: string, file: string): Promise<LoadResult> {
  const jiti = createJiti(join(root, file), {
    moduleCache: false,
    fsCache: true,
    // Specs import "dagspec"; resolve it to this compiler's own API so a spec never sees a
    // different copy of definePipeline than the one the compiler checks for.
    alias: { dagspec: PACKAGE_ENTRY },
  });
  let mod: unknown;
  try {
    mod = await jiti.import(join(root, file));
  } catch (err) {
    return { ok: false, diagnostic: loadFailure(root, file, err) };
  }
  const value = (mod as { default?: unknown }).default;
  if (!isPipeline(value)) {
    return {
      ok: false,
      diagnostic: {
        code: "DS1003",
        severity: "error",
        file,
        path: "",
        ...exportPosition(join(root, file)),
        message: "the file must `export default definePipeline({...})`",
        hint: 'import { definePipeline } from "dagspec";',
      },
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Anything can be thrown while a spec runs (a getter, a thrown string, an object whose toString
 * throws); none of it may escape as a crash. The position is the deepest stack frame in the spec
 * file itself, else the file's first line.
 */
function loadFailure(root: string, file: string, err: unknown): Diagnostic {
  let message: string;
  let stack = "";
  try {
    message = err instanceof Error ? String(err.message) : String(err);
    stack = err instanceof Error ? String(err.stack ?? "") : "";
  } catch {
    message = "the spec threw a value that cannot be printed";
  }
  const firstLine = printableMessage(message) || "unknown error";
  const abs = join(root, file);
  let pos = { line: 1, col: 1 };
  for (const line of stack.split("\n")) {
    const i = line.indexOf(`${abs}:`);
    const m = i >= 0 ? /^:(\d+):(\d+)/.exec(line.slice(i + abs.length)) : null;
    if (m) {
      pos = { line: Number(m[1]), col: Number(m[2]) };
      break;
    }
  }
  return { code: "DS1002", severity: "error", file, path: "", ...pos, message: `could not load: ${firstLine}`, hint: "the spec file threw while it was being run; fix the statement at this position" };
}

/** Where the default export is, or the file's start when there is none. */
function exportPosition(abs: string): { line: number; col: number } {
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    return { line: 1, col: 1 };
  }
  const i = text.search(/^export\s+default\b/m);
  if (i < 0) return { line: 1, col: 1 };
  const before = text.slice(0, i).split("\n");
  return { line: before.length, col: 1 };
}
