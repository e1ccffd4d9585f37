import { describe, expect, it } from "vitest";
import { PY_LINE_LENGTH, py, pyLiteral, pyStr, pyWrappedStr } from "../../src/emit/python.ts";
import { wrapLine } from "../../src/emit/text.ts";
import { renderForParsing, jinjaRefs, protectTags } from "../../src/sql/jinja.ts";

describe("python literals", () => {
  it("quote like ruff format: double quotes unless that needs more escapes", () => {
    expect(pyStr('say "hi"')).toBe(`'say "hi"'`);
    expect(pyStr("it's")).toBe(`"it's"`);
    expect(pyStr('a\\b"\n')).toBe(`'a\\\\b"\\n'`);
    expect(pyStr(`"it's"`)).toBe(`'"it\\'s"'`);
  });

  it("keep a collection on one line when it fits, else one item per line with trailing commas", () => {
    expect(pyLiteral({ a: [1, 2], b: null, c: true, d: py("timedelta(minutes=5)") })).toBe(
      '{"a": [1, 2], "b": None, "c": True, "d": timedelta(minutes=5)}',
    );
    const long = pyLiteral({ key: "x".repeat(PY_LINE_LENGTH) });
    expect(long).toBe(`{\n    "key": "${"x".repeat(PY_LINE_LENGTH)}",\n}`);
  });

  it("splits long strings into implicit concatenations", () => {
    const text = "word ".repeat(40).trim();
    const out = pyWrappedStr(text, 4, 12);
    expect(out.startsWith("(\n")).toBe(true);
    expect(out.split("\n").every((l) => l.length <= PY_LINE_LENGTH)).toBe(true);
    const joined = out.split("\n").slice(1, -1).map((l) => JSON.parse(l.trim())).join("");
    expect(joined).toBe(text);
  });

  it("keeps a string that fits inside the parentheses as one literal, as ruff format joins it", () => {
    // 12 + "description=" + the literal + "," is over the line; the literal alone at 16 is not.
    const text = `${"word ".repeat(18)}ab`;
    expect(16 + pyStr(text).length).toBe(PY_LINE_LENGTH);
    expect(pyWrappedStr(text, 12, "description=".length)).toBe(`(\n${" ".repeat(16)}"${text}"\n${" ".repeat(12)})`);
    expect(pyWrappedStr(`${text} y`, 12, "description=".length).split("\n")).toHaveLength(4);
  });

  it("wraps prose with a hanging indent for list items", () => {
    expect(wrapLine("- one two three four", 12)).toEqual(["- one two", "  three four"]);
  });
});

describe("jinja", () => {
  it("finds ref() and source() calls", () => {
    expect(jinjaRefs(`select * from {{ ref('a') }} join {{ source("s", 't') }}`).map((r) => [r.kind, r.args])).toEqual([
      ["ref", ["a"]],
      ["source", ["s", "t"]],
    ]);
  });

  it("renders Jinja away keeping line numbers, taking an if's first branch", () => {
    const sql = "select *\nfrom {{ ref('a') }}\n{% if is_incremental() %}\nwhere x = 1\n{% else %}\nwhere x = 2\n{% endif %}\nlimit '{{ var(\"ds\") }}'";
    const r = renderForParsing(sql);
    expect(r.sql.split("\n")).toHaveLength(sql.split("\n").length);
    expect(r.sql).toContain("from __ref__a");
    expect(r.sql).toContain("where x = 1");
    expect(r.sql).not.toContain("where x = 2");
    expect(r.sql).toContain("limit '__jinja__'");
    const at = r.sql.indexOf("limit");
    expect(sql.slice(r.toOriginal(at), r.toOriginal(at) + 5)).toBe("limit");
  });

  it("puts tags on lines of their own for the formatter, and restores them", () => {
    const p = protectTags("a {% if x %} b {% endif %}");
    expect(p.sql).toMatch(/-- __dagspec_tag_0__/);
    expect(p.restore(p.sql)).toContain("{% if x %}");
  });
});
