import { pipelineSchema, type CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import { printableMessage } from "../diagnostics/printable.ts";

/** Validates structure with zod; every issue becomes a DS1101 at its field path. */
export function checkShape(raw: unknown, report: Reporter): CheckedSpec | undefined {
  let parsed: ReturnType<typeof pipelineSchema.safeParse>;
  try {
    parsed = pipelineSchema.safeParse(raw);
  } catch (err) {
    // A getter or a Proxy in the spec object can throw while its fields are read.
    let message = "a value that cannot be printed";
    try {
      message = printableMessage(err);
    } catch {}
    report.error("DS1002", [], `could not read the spec object: ${message}`, "a spec is plain data: no getters or proxies that throw");
    return undefined;
  }
  const hidden = prototypeSetters(raw);
  for (const path of hidden)
    report.error("DS1101", path, "`__proto__:` in an object literal sets the prototype instead of naming an entry, so the entry would vanish", "choose another name; __proto__ cannot name a model, table, column or test");
  if (parsed.success) return hidden.length ? undefined : parsed.data;
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const field = path.length ? String(path[path.length - 1]) : "spec";
    report.error("DS1101", path, `${field}: ${issue.message}`);
  }
  return undefined;
}

/** Paths of plain-data objects whose prototype was replaced, as `{ __proto__: {...} }` does. */
function prototypeSetters(raw: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      out.push(path);
      return;
    }
    for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], [...path, k]);
  };
  try {
    walk(raw, []);
  } catch {
    // A getter that throws is reported by the schema check.
  }
  return out;
}
