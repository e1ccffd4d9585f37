import type { Diagnostic, Severity } from "../diagnostics/diagnostic.ts";
import type { Code } from "../diagnostics/codes.ts";

/**
 * Collects diagnostics for one spec file. Positions are filled in later by the locator, which
 * knows the file's syntax tree; checks only name the field path.
 */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(code: Code, path: readonly (string | number)[], message: string, hint?: string): void {
    this.add("error", code, path, message, hint);
  }

  warn(code: Code, path: readonly (string | number)[], message: string, hint?: string): void {
    this.add("warning", code, path, message, hint);
  }

  /** A diagnostic in another file (a .sql file), with its own position. */
  at(d: Omit<Diagnostic, "severity"> & { severity?: Severity }): void {
    this.diagnostics.push({ severity: "error", ...d });
  }

  private add(severity: Severity, code: Code, path: readonly (string | number)[], message: string, hint?: string) {
    this.diagnostics.push({ code, severity, file: this.file, path: path.join("."), message, ...(hint ? { hint } : {}) });
  }
}
