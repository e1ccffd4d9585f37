/**
 * dbt SQL is Jinja around SQL. To parse or format it we swap each Jinja construct for something the
 * SQL tools accept, keeping a map so positions can be reported against the original text.
 *
 * Scanning is a single left-to-right pass with indexOf (linear in the text): a regular expression
 * with lazy bodies around `\s*` backtracks for minutes on an unclosed `{{` followed by whitespace.
 */

export type JinjaKind = "expr" | "tag" | "comment";

export interface JinjaToken {
  kind: JinjaKind;
  /** Offset of the opening delimiter and just past the closing one. */
  start: number;
  end: number;
  /** The text between the delimiters, without whitespace-control dashes and surrounding space. */
  body: string;
}

export type JinjaScan = { ok: true; tokens: JinjaToken[] } | { ok: false; message: string; offset: number };

const CLOSE: Record<JinjaKind, string> = { expr: "}}", tag: "%}", comment: "#}" };
const OPEN: Record<string, JinjaKind> = { "{{": "expr", "{%": "tag", "{#": "comment" };

function innerBody(raw: string): string {
  let s = raw.trim();
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1);
  if (s.endsWith("-") || s.endsWith("+")) s = s.slice(0, -1);
  return s.trim();
}

/** Every `{{ }}`, `{% %}` and `{# #}` in order; an unclosed one is an error at its opening. */
export function scanJinja(sql: string): JinjaScan {
  const tokens: JinjaToken[] = [];
  let i = 0;
  for (;;) {
    const open = sql.indexOf("{", i);
    if (open < 0 || open === sql.length - 1) return { ok: true, tokens };
    const kind = OPEN[sql.slice(open, open + 2)];
    if (!kind) {
      i = open + 1;
      continue;
    }
    const close = sql.indexOf(CLOSE[kind], open + 2);
    if (close < 0) return { ok: false, message: `'${sql.slice(open, open + 2)}' is never closed with '${CLOSE[kind]}'`, offset: open };
    tokens.push({ kind, start: open, end: close + 2, body: innerBody(sql.slice(open + 2, close)) });
    i = close + 2;
  }
}

/** Whether an expression token's body is the report day, `var('ds')`: the one var specs may read. */
export function isDayVar(body: string): boolean {
  return /^var\(\s*(?:'ds'|"ds")\s*\)$/.test(body);
}

export interface JinjaRef {
  kind: "ref" | "source";
  /** `ref`: [model]; `source`: [source name, table]. */
  args: string[];
  offset: number;
}

const STRING_ARGS = String.raw`((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)`;
const CALL = new RegExp(String.raw`^(ref|source)\s*\(\s*${STRING_ARGS}\s*\)$`);

/** A `ref('x')` or `source('s', 't')` expression body, or undefined for anything else. */
export function refOf(token: JinjaToken): JinjaRef | undefined {
  if (token.kind !== "expr") return undefined;
  const call = CALL.exec(token.body);
  if (!call) return undefined;
  const args = [...(call[2] ?? "").matchAll(/'([^']*)'|"([^"]*)"/g)].map((a) => a[1] ?? a[2] ?? "");
  return { kind: call[1] as "ref" | "source", args, offset: token.start };
}

/** Every `ref('x')` and `source('s', 't')` call inside `{{ }}` (none when the Jinja does not scan). */
export function jinjaRefs(sql: string): JinjaRef[] {
  const scan = scanJinja(sql);
  if (!scan.ok) return [];
  return scan.tokens.map(refOf).filter((r): r is JinjaRef => r !== undefined);
}

export function placeholderFor(ref: JinjaRef): string {
  return ref.kind === "ref" ? `__ref__${ref.args[0]}` : `__src__${ref.args.join("__")}`;
}

export interface Rendered {
  sql: string;
  /** Maps an offset in `sql` back to an offset in the original text. */
  toOriginal(offset: number): number;
}

const onlyNewlines = (s: string) => s.replace(/[^\n]/g, "");

/**
 * Renders Jinja away for parsing: refs/sources become placeholder identifiers, other expressions a
 * neutral identifier. `{% if %}` keeps its first branch when `incremental` (what dbt renders on an
 * incremental run), else its `{% else %}` branch or nothing (a full build): both must parse.
 * Newlines are preserved so line numbers survive. Callers have checked that the Jinja scans.
 */
export function renderForParsing(sql: string, incremental = true): Rendered {
  const pieces: { origStart: number; outStart: number }[] = [];
  let out = "";
  let i = 0;
  const skipDepth: number[] = [];
  let depth = 0;
  const emit = (text: string, orig: number) => {
    pieces.push({ origStart: orig, outStart: out.length });
    out += text;
  };
  const scan = scanJinja(sql);
  for (const tok of scan.ok ? scan.tokens : []) {
    const skipping = skipDepth.length > 0;
    const between = sql.slice(i, tok.start);
    emit(skipping ? onlyNewlines(between) : between, i);
    const newlines = onlyNewlines(sql.slice(tok.start, tok.end));
    if (tok.kind === "expr") {
      const ref = refOf(tok);
      emit(skipping ? newlines : (ref ? placeholderFor(ref) : "__jinja__") + newlines, tok.start);
    } else if (tok.kind === "tag") {
      const word = tok.body.split(/\s+/)[0];
      if (word === "if" || word === "for") {
        depth++;
        if (!incremental && !skipping) skipDepth.push(depth);
      } else if ((word === "else" || word === "elif") && !incremental && skipDepth.at(-1) === depth) skipDepth.pop();
      else if ((word === "else" || word === "elif") && skipDepth.at(-1) !== depth && !skipping) skipDepth.push(depth);
      else if (word === "endif" || word === "endfor") {
        if (skipDepth.at(-1) === depth) skipDepth.pop();
        depth--;
      }
      emit(newlines, tok.start);
    } else {
      emit(newlines, tok.start);
    }
    i = tok.end;
  }
  emit(skipDepth.length ? onlyNewlines(sql.slice(i)) : sql.slice(i), i);
  return {
    sql: out,
    toOriginal(offset: number) {
      let best = pieces[0] ?? { origStart: 0, outStart: 0 };
      for (const p of pieces) if (p.outStart <= offset) best = p;
      return best.origStart + (offset - best.outStart);
    },
  };
}

/**
 * Jinja tags become line comments while formatting so the formatter gives them a line each;
 * Jinja comments are dropped. Callers have checked that the Jinja scans.
 */
export function protectTags(sql: string): { sql: string; restore(formatted: string): string } {
  const tags: string[] = [];
  let out = "";
  let i = 0;
  const scan = scanJinja(sql);
  for (const tok of scan.ok ? scan.tokens : []) {
    if (tok.kind === "expr") continue;
    out += sql.slice(i, tok.start);
    if (tok.kind === "tag") {
      tags.push(sql.slice(tok.start, tok.end).replace(/\s+/g, " "));
      out += `\n-- __dagspec_tag_${tags.length - 1}__\n`;
    }
    i = tok.end;
  }
  out += sql.slice(i);
  return {
    sql: out,
    restore: (formatted) => formatted.replace(/-- __dagspec_tag_(\d+)__/g, (_, n: string) => tags[Number(n)] ?? ""),
  };
}
