import { pipelineSchema, type CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";

/** Validates structure with zod; every issue becomes a DS1101 at its field path. */
export function checkShape(raw: unknown, report: Reporter): CheckedSpec | undefined {
  const parsed = pipelineSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const field = path.length ? String(path[path.length - 1]) : "spec";
    report.error("DS1101", path, `${field}: ${issue.message}`);
  }
  return undefined;
}
