/** Text that used to hang, crash or reorder output: now linear, total and locale-free. */
import { describe, expect, it } from "vitest";
import { scanJinja } from "../../src/sql/jinja.ts";
import { checkDbtJinja } from "../../src/sql/jinja-allowlist.ts";
import { byCodePoint } from "../../src/util/code-point-order.ts";
import { parseDailyCron } from "../../src/time/cron.ts";

describe("Jinja scanning", () => {
  it("is linear on unclosed delimiters followed by whitespace (the old regex backtracked for minutes)", () => {
    const hostile = `select 1 ${"{{ ".repeat(20_000)}${" ".repeat(200_000)}`;
    const t0 = performance.now();
    expect(scanJinja(hostile)).toEqual({ ok: false, message: "'{{' is never closed with '}}'", offset: 9 });
    expect(checkDbtJinja(`{% if is_incremental() %}${"\t".repeat(200_000)}`)?.kind).toBe("syntax");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("allows only the constructs the typed helpers write", () => {
    expect(checkDbtJinja("select * from {{ ref('a') }} join {{ source('s', 't') }} where ds = '{{ var(\"ds\") }}' {# note #}")).toBeUndefined();
    expect(checkDbtJinja("{% if is_incremental() %} a {% else %} b {% endif %}")).toBeUndefined();
    for (const bad of ["{{ env_var('X') }}", "{{ ref('a', 'b') }}", "{{ var('other') }}", "{% set x = 1 %}", "{% for x in y %}{% endfor %}", "{{ ref('a') | upper }}"])
      expect(checkDbtJinja(bad)?.kind, bad).toBe("unsafe");
    for (const bad of ["{% endif %}", "{% else %}", "{% if is_incremental() %}{% else %}{% else %}{% endif %}", "{# open"])
      expect(checkDbtJinja(bad)?.kind, bad).toBe("syntax");
  });
});

describe("ordering", () => {
  it("compares code points, whatever the locale", () => {
    const names = ["b", "a_b", "B", "aB", "ab", "a", "é", "z", "😀", "\uffff"];
    expect([...names].sort(byCodePoint)).toEqual(["B", "a", "aB", "a_b", "ab", "b", "z", "é", "\uffff", "😀"]);
  });
});

describe("cron ranges (as strict as croniter)", () => {
  it.each([
    ["0 6 */0 * *", /step must be at least 1/],
    ["0 6 0 * *", /day-of-month values are 1-31/],
    ["0 6 * 13 *", /month values are 1-12/],
    ["0 6 * * 8", /day-of-week values are 0-7/],
    ["0 6 10-2 * *", /runs backwards/],
    ["0 6 30 2 *", /never occurs/],
  ])("%s is refused", (cron, message) => {
    const r = parseDailyCron(cron);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it.each(["0 6 * * *", "15 0,12 1-31/2 */3 MON-FRI", "0 6 29 2 *", "0 6 1,15 * sun", "0 23 28 * *"])("%s is accepted", (cron) => {
    expect(parseDailyCron(cron).ok).toBe(true);
  });
});
