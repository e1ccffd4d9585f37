/**
 * The one place TypeScript specs are executed. jiti runs them without a build step; its module
 * cache is off so a watch loop or a second build in the same process sees edits. Its file cache of
 * transpiled sources stays on: entries are keyed by a hash of the source text, so an edit is a miss.
 */
import { createJiti } from "jiti";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { isPipeline } from "../spec/define.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";

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
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return { ok: false, diagnostic: { code: "DS1002", severity: "error", file, path: "", message: `could not load: ${message}` } };
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
        message: "the file must `export default definePipeline({...})`",
        hint: 'import { definePipeline } from "dagspec";',
      },
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
