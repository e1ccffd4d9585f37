/**
 * Spec text quoted in a diagnostic is shown escaped: a newline, a control character, a Unicode line
 * separator or half of a UTF-16 pair would otherwise break the one-line `file:line:col: ...` format
 * (or the terminal). Backslash and double quote are escaped too, as in a JSON string.
 */
export function printable(s: string, max = 300): string {
  const escaped = s.replace(
    /[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\uD800-\uDFFF]/gu,
    (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
}

/** What a thrown value or a tool's message says: its first line, kept on that line, bounded. */
export function printableMessage(message: unknown, max = 300): string {
  let s: string;
  try {
    s = message instanceof Error ? String(message.message) : String(message);
  } catch {
    return "a value that cannot be printed";
  }
  const first = oneLine(s.split("\n")[0] ?? "");
  return first.length > max ? `${first.slice(0, max)}...` : first;
}

/**
 * The last line of defence for whole messages and hints: only what would break the line format is
 * escaped (quotes and backslashes stay as the check wrote them).
 */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\uD800-\uDFFF]/gu, (c) =>
    c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
