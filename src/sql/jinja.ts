/**
 * dbt SQL is Jinja around SQL. To parse or format it we swap each Jinja construct for something the
 * SQL tools accept, keeping a map so positions can be reported against the original text.
 */

export interface JinjaRef {
  kind: "ref" | "source";
  /** `ref`: [model]; `source`: [source name, table]. */
  args: string[];
  offset: number;
}

const EXPR = /\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const TAG = /\{%-?\s*([\s\S]*?)\s*-?%\}/g;
const COMMENT = /\{#[\s\S]*?#\}/g;

/** Every `ref('x')` and `source('s', 't')` call inside `{{ }}`. */
export function jinjaRefs(sql: string): JinjaRef[] {
  const out: JinjaRef[] = [];
  for (const m of sql.matchAll(EXPR)) {
    const call = /^(ref|source)\s*\(\s*((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\s*\)$/.exec(m[1] ?? "");
    if (!call) continue;
    const args = [...(call[2] ?? "").matchAll(/'([^']*)'|"([^"]*)"/g)].map((a) => a[1] ?? a[2] ?? "");
    out.push({ kind: call[1] as "ref" | "source", args, offset: m.index ?? 0 });
  }
  return out;
}

export function placeholderFor(ref: JinjaRef): string {
  return ref.kind === "ref" ? `__ref__${ref.args[0]}` : `__src__${ref.args.join("__")}`;
}

export interface Rendered {
  sql: string;
  /** Maps an offset in `sql` back to an offset in the original text. */
  toOriginal(offset: number): number;
}

/**
 * Renders Jinja away for parsing: refs/sources become placeholder identifiers, other expressions a
 * neutral identifier, `{% if %}` keeps its first branch (an `else` branch would duplicate clauses).
 * Newlines are preserved so line numbers survive.
 */
export function renderForParsing(sql: string): Rendered {
  const pieces: { origStart: number; outStart: number }[] = [];
  let out = "";
  let i = 0;
  const skipDepth: number[] = [];
  let depth = 0;
  const token = /\{\{-?[\s\S]*?-?\}\}|\{%-?[\s\S]*?-?%\}|\{#[\s\S]*?#\}/g;
  const emit = (text: string, orig: number) => {
    pieces.push({ origStart: orig, outStart: out.length });
    out += text;
  };
  for (const m of sql.matchAll(token)) {
    const start = m.index ?? 0;
    const skipping = skipDepth.length > 0;
    const between = sql.slice(i, start);
    emit(skipping ? between.replace(/[^\n]/g, "") : between, i);
    const tok = m[0];
    const newlines = tok.replace(/[^\n]/g, "");
    if (tok.startsWith("{{")) {
      const ref = jinjaRefs(tok)[0];
      emit(skipping ? newlines : (ref ? placeholderFor(ref) : "__jinja__") + newlines, start);
    } else if (tok.startsWith("{%")) {
      const body = tok.replace(/^\{%-?\s*|\s*-?%\}$/g, "");
      const word = body.split(/\s+/)[0];
      if (word === "if" || word === "for") depth++;
      else if ((word === "else" || word === "elif") && skipDepth.at(-1) !== depth) skipDepth.push(depth);
      else if (word === "endif" || word === "endfor") {
        if (skipDepth.at(-1) === depth) skipDepth.pop();
        depth--;
      }
      emit(newlines, start);
    } else {
      emit(newlines, start);
    }
    i = start + tok.length;
  }
  emit(skipDepth.length ? sql.slice(i).replace(/[^\n]/g, "") : sql.slice(i), i);
  return {
    sql: out,
    toOriginal(offset: number) {
      let best = pieces[0] ?? { origStart: 0, outStart: 0 };
      for (const p of pieces) if (p.outStart <= offset) best = p;
      return best.origStart + (offset - best.outStart);
    },
  };
}

/** Jinja tags become line comments while formatting so the formatter gives them a line each. */
export function protectTags(sql: string): { sql: string; restore(formatted: string): string } {
  const tags: string[] = [];
  const protectedSql = sql.replace(TAG, (tag) => {
    tags.push(tag.replace(/\s+/g, " "));
    return `\n-- __dagspec_tag_${tags.length - 1}__\n`;
  });
  return {
    sql: protectedSql.replace(COMMENT, ""),
    restore: (formatted) => formatted.replace(/-- __dagspec_tag_(\d+)__/g, (_, n: string) => tags[Number(n)] ?? ""),
  };
}
