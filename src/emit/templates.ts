/**
 * Handlebars templates only lay text out; every decision is made in the TypeScript view models.
 * Helpers are few and named: nothing in a template quotes or escapes by itself.
 */
import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));
const cache = new Map<string, Handlebars.TemplateDelegate>();

const hb = Handlebars.create();
hb.registerHelper("indent", (text: string, n: number) =>
  String(text)
    .split("\n")
    .map((l, i) => (i === 0 || l === "" ? l : " ".repeat(n) + l))
    .join("\n"),
);

export function render(name: string, view: object): string {
  let t = cache.get(name);
  if (!t) {
    // noEscape: output is code, not HTML; views hand over text that is already quoted.
    t = hb.compile(readFileSync(`${TEMPLATE_DIR}${name}`, "utf8"), { noEscape: true, strict: true });
    cache.set(name, t);
  }
  return t(view);
}
