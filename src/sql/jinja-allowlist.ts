/**
 * The Jinja a spec may write in dbt SQL. dbt executes every `{{ }}` and `{% %}` it reads, with
 * `env_var()` (the warehouse password), `run_query()` and the whole context in reach, so SQL may use
 * only the constructs the typed helpers produce: `ref('m')`, `source('s', 't')`, `var('ds')`, `this`,
 * and `{% if is_incremental() %} ... {% else %} ... {% endif %}`. Comments are never executed.
 */
import { isDayVar, refOf, scanJinja } from "./jinja.ts";
import { printable } from "../diagnostics/printable.ts";

export interface JinjaProblem {
  /** "syntax": unclosed or unbalanced; "unsafe": a construct outside the allowlist. */
  kind: "syntax" | "unsafe";
  message: string;
  offset: number;
  hint: string;
}

const ALLOWED = "ref('model'), source('source', 'table'), var('ds'), this, and {% if is_incremental() %} / {% else %} / {% endif %}";

export function checkDbtJinja(sql: string): JinjaProblem | undefined {
  const scan = scanJinja(sql);
  if (!scan.ok) return { kind: "syntax", message: `Jinja ${scan.message}`, offset: scan.offset, hint: "close it, or remove the brace" };
  const open: { offset: number; sawElse: boolean }[] = [];
  const unsafe = (offset: number, what: string): JinjaProblem => ({
    kind: "unsafe",
    message: `Jinja ${what} is not allowed in SQL: dbt would execute it`,
    offset,
    hint: `allowed: ${ALLOWED}`,
  });
  for (const tok of scan.tokens) {
    const shown = printable(tok.body, 40);
    if (tok.kind === "comment") continue;
    if (tok.kind === "expr") {
      const ref = refOf(tok);
      const ok = ref ? ref.args.length === (ref.kind === "ref" ? 1 : 2) : isDayVar(tok.body) || tok.body === "this";
      if (!ok) return unsafe(tok.start, `expression {{ ${shown} }}`);
      continue;
    }
    const body = tok.body.replace(/\s+/g, " ");
    if (/^if is_incremental\(\s*\)$/.test(body)) open.push({ offset: tok.start, sawElse: false });
    else if (body === "else") {
      const top = open.at(-1);
      if (!top || top.sawElse) return { kind: "syntax", message: "Jinja {% else %} without an open {% if %}", offset: tok.start, hint: "each {% else %} belongs to one {% if %}" };
      top.sawElse = true;
    } else if (body === "endif") {
      if (!open.pop()) return { kind: "syntax", message: "Jinja {% endif %} without an open {% if %}", offset: tok.start, hint: "remove it or add the {% if %}" };
    } else return unsafe(tok.start, `tag {% ${shown} %}`);
  }
  const unclosed = open.at(-1);
  if (unclosed) return { kind: "syntax", message: "Jinja {% if %} is never closed with {% endif %}", offset: unclosed.offset, hint: "add {% endif %}" };
  return undefined;
}
