/** Small helpers for reporting on SQL text: positions and one-line messages. */
import { printableMessage } from "../diagnostics/printable.ts";

export function lineColOf(text: string, offset: number): { line: number; col: number } {
  const lines = text.slice(0, Math.max(0, offset)).split("\n");
  return { line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1 };
}

/** A tool's message on one line, unprintable characters escaped, bounded in length. */
export const oneLineMessage = (message: unknown): string => printableMessage(message);

/**
 * Characters that no SQL tool downstream handles the same way: NUL and other control characters,
 * the Unicode line separators (some tools end a `--` comment there, some do not), and half of a
 * UTF-16 pair. Tab, newline and carriage return are ordinary whitespace.
 */
export const UNSAFE_SQL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0085\u2028\u2029]|[\uD800-\uDFFF]/u;
