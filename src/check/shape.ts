import { pipelineSchema, type CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";

/** Validates structure with zod; every issue becomes a DS1101 at its field path. */
export function checkShape(raw: unknown, report: Reporter): CheckedSpec | undefined {
  let parsed: ReturnType<typeof pipelineSchema.safeParse>;
  try {
    parsed = pipelineSchema.safeParse(raw);
  } catch (err) {
    // A getter or a Proxy in the spec object can throw while its fields are read.
    let message = "a value that cannot be printed";
    try {
      message = JSON.stringify(err instanceof Error ? String(err.message) : String(err)).slice(1, -1).slice(0, 300);
    } catch {}
    report.error("DS1002", [], `could not read the spec object: ${message}`, "a spec is plain data: no getters or proxies that throw");
    return undefined;
  }
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const field = path.length ? String(path[path.length - 1]) : "spec";
    report.error("DS1101", path, `${field}: ${issue.message}`);
  }
  return undefined;
}
