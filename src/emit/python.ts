/**
 * Python literals, laid out the way `ruff format` lays them out (so generated files pass
 * `ruff format --check`): a collection stays on one line when it fits, otherwise one item per line
 * with a trailing comma.
 */

export const PY_LINE_LENGTH = 110;

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue } | PyCode;

/** Verbatim Python source (a call, a name), never quoted. */
export class PyCode {
  constructor(readonly code: string) {}
}
export const py = (code: string) => new PyCode(code);

/**
 * A Python string literal. JSON escaping is valid Python escaping; like ruff format, it uses double
 * quotes unless the text holds more double quotes than single ones.
 */
export function pyStr(s: string): string {
  const body = JSON.stringify(s).slice(1, -1);
  const doubles = s.split('"').length - 1;
  const singles = s.split("'").length - 1;
  if (doubles <= singles) return `"${body}"`;
  return `'${body.replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function oneLine(v: PyValue): string {
  if (v instanceof PyCode) return v.code;
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) return `[${v.map(oneLine).join(", ")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${pyStr(k)}: ${oneLine(x)}`).join(", ")}}`;
}

/**
 * Renders `v` for a position that starts at column `indent` after `prefix` characters and is
 * followed by `suffix` characters on the same line (e.g. a trailing comma).
 */
export function pyLiteral(v: PyValue, indent = 0, prefix = 0, suffix = 0): string {
  const flat = oneLine(v);
  const isCollection = Array.isArray(v) || (typeof v === "object" && v !== null && !(v instanceof PyCode));
  if (!isCollection || indent + prefix + flat.length + suffix <= PY_LINE_LENGTH) return flat;
  const pad = " ".repeat(indent + 4);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${pad}${pyLiteral(x, indent + 4, 0, 1)},`).join("\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(v as Record<string, PyValue>);
  if (entries.length === 0) return "{}";
  return `{\n${entries
    .map(([k, x]) => {
      const key = `${pyStr(k)}: `;
      return `${pad}${key}${pyLiteral(x, indent + 4, key.length, 1)},`;
    })
    .join("\n")}\n${" ".repeat(indent)}}`;
}

/** A triple-quoted string body: backslashes and quotes escaped so no text can end the literal. */
export function pyDocBody(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/**
 * A string literal that may be long: kept on one line when it fits, otherwise split at spaces into
 * implicitly concatenated literals inside parentheses (how ruff-formatted code carries long text).
 */
export function pyWrappedStr(s: string, indent: number, prefix: number): string {
  if (indent + prefix + pyStr(s).length + 1 <= PY_LINE_LENGTH) return pyStr(s);
  const pad = " ".repeat(indent + 4);
  // ruff joins implicitly concatenated parts back into one literal when it fits in the parentheses.
  if (pad.length + pyStr(s).length <= PY_LINE_LENGTH) return `(\n${pad}${pyStr(s)}\n${" ".repeat(indent)})`;
  const chunks: string[] = [];
  let cur = "";
  for (const word of s.split(/(?<= )/)) {
    if (cur && pad.length + pyStr(cur + word).length > PY_LINE_LENGTH - 10) {
      chunks.push(cur);
      cur = word;
    } else cur += word;
  }
  if (cur) chunks.push(cur);
  return `(\n${chunks.map((c) => `${pad}${pyStr(c)}`).join("\n")}\n${" ".repeat(indent)})`;
}
