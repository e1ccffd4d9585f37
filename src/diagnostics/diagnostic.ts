import type { Code } from "./codes.ts";
import { byCodePoint } from "../util/code-point-order.ts";

/** `note`: worth knowing, never fails a build (e.g. a column the live source has and the spec does not use). */
export type Severity = "error" | "warning" | "note";

/** A diagnostic is data: collected, sorted and rendered, never thrown one at a time. */
export interface Diagnostic {
  code: Code;
  severity: Severity;
  /** Repository-relative POSIX path of the file at fault. */
  file: string;
  /** Path of the offending field inside the spec, e.g. `models.stg_orders.sql`. */
  path: string;
  line?: number;
  col?: number;
  message: string;
  hint?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sorted by file, then position, then code: the order users read them in. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      byCodePoint(a.file, b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      byCodePoint(a.code, b.code) ||
      byCodePoint(a.message, b.message),
  );
}
