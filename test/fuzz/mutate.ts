/**
 * Mutations of a seed spec: replace a value, rename a key, delete an entry, or splice a hostile
 * string into a text (SQL keeps most of its meaning, so checks past the parser get exercised).
 */
import fc from "fast-check";
import type { Json } from "./corpus.ts";
import { hostileKey, hostileValue } from "./hostile.ts";

type Path = (string | number)[];

export type Mutation =
  | { kind: "replace"; at: number; value: Json }
  | { kind: "rename"; at: number; key: string }
  | { kind: "delete"; at: number }
  | { kind: "splice"; at: number; where: number; text: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), key: hostileKey }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), where: fc.nat(), text: hostileValue.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) }),
  },
);

/** Every path below the root, in document order. */
function paths(v: Json, prefix: Path = []): Path[] {
  if (v === null || typeof v !== "object") return [];
  const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return entries.flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
}

function parentOf(root: Json, path: Path): { [k: string]: Json } | Json[] {
  let node = root as { [k: string]: Json } | Json[];
  for (const k of path.slice(0, -1)) node = (node as Record<string | number, Json>)[k] as typeof node;
  return node;
}

export function applyMutations(seed: { [k: string]: Json }, mutations: readonly Mutation[]): { [k: string]: Json } {
  const spec = structuredClone(seed);
  for (const m of mutations) {
    const all = paths(spec);
    if (!all.length) break;
    const pick = (pred: (p: Path) => boolean) => {
      const candidates = all.filter(pred);
      return candidates.length ? candidates[m.at % candidates.length] : undefined;
    };
    if (m.kind === "splice") {
      const path = pick((p) => typeof valueAt(spec, p) === "string");
      if (!path) continue;
      const s = valueAt(spec, path) as string;
      const i = m.where % (s.length + 1);
      setAt(spec, path, s.slice(0, i) + m.text + s.slice(i));
    } else if (m.kind === "replace") {
      const path = all[m.at % all.length] as Path;
      setAt(spec, path, m.value);
    } else {
      const path = pick((p) => typeof p.at(-1) === "string");
      if (!path) continue;
      const parent = parentOf(spec, path) as { [k: string]: Json };
      const key = path.at(-1) as string;
      const value = parent[key] as Json;
      // Rebuild the object so the renamed key keeps its place (order reaches some outputs).
      const rebuilt = Object.fromEntries(
        Object.entries(parent).flatMap(([k, v]) => (k !== key ? [[k, v]] : m.kind === "rename" ? [[m.key, value]] : [])),
      );
      for (const k of Object.keys(parent)) delete parent[k];
      for (const [k, v] of Object.entries(rebuilt)) define(parent, k, v);
    }
  }
  return spec;
}

function valueAt(root: Json, path: Path): Json {
  let node = root;
  for (const k of path) node = (node as Record<string | number, Json>)[k] as Json;
  return node;
}

function setAt(root: Json, path: Path, value: Json): void {
  define(parentOf(root, path) as Record<string | number, Json>, path.at(-1) as string | number, value);
}

/** An own data property even for `__proto__` (assignment would set the prototype instead). */
function define(target: Record<string | number, Json>, key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
