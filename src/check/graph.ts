/** Model dependency graph: cycle detection (naming the cycle) and a deterministic topological order. */

export function findCycle(deps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const d of [...(deps.get(n) ?? [])].sort()) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of [...deps.keys()].sort()) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Kahn's algorithm, ties broken by name so output never depends on declaration order. */
export function topoSort(deps: ReadonlyMap<string, readonly string[]>): string[] {
  const remaining = new Map([...deps].map(([n, ds]) => [n, new Set(ds.filter((d) => deps.has(d)))]));
  const out: string[] = [];
  while (remaining.size) {
    const ready = [...remaining].filter(([, ds]) => ds.size === 0).map(([n]) => n).sort();
    if (!ready.length) throw new Error("topoSort called on a cyclic graph");
    for (const n of ready) {
      out.push(n);
      remaining.delete(n);
      for (const ds of remaining.values()) ds.delete(n);
    }
  }
  return out;
}

/** Every node reachable upstream of `start` (its ancestors), excluding itself. */
export function ancestors(deps: ReadonlyMap<string, readonly string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(deps.get(start) ?? [])];
  while (todo.length) {
    const n = todo.pop() as string;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...(deps.get(n) ?? []));
  }
  return seen;
}
