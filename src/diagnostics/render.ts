import type { Diagnostic } from "./diagnostic.ts";

/** `specs/x.pipeline.ts:14:7: error DS1203: message` plus an indented hint line. */
export function renderText(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const where = d.line ? `${d.file}:${d.line}:${d.col ?? 1}` : d.file;
      const field = d.path ? ` (at ${d.path})` : "";
      const head = `${where}: ${d.severity} ${d.code}: ${d.message}${field}`;
      return d.hint ? `${head}\n  hint: ${d.hint}` : head;
    })
    .map((s) => `${s}\n`)
    .join("");
}

export function renderJson(diagnostics: readonly Diagnostic[]): string {
  return `${JSON.stringify(diagnostics, null, 2)}\n`;
}

export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  const notes = diagnostics.filter((d) => d.severity === "note").length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}${notes ? `, ${plural(notes, "note")}` : ""}\n`;
}
