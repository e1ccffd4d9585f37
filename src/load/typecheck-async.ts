/**
 * Runs the spec type check on a worker thread. Loading the TypeScript compiler and checking the
 * specs is most of a cold `gen build`; on its own thread it overlaps with executing, checking and
 * emitting the specs on the main thread, which never loads TypeScript unless a diagnostic needs a
 * source position. The check itself is unchanged (same options, a fresh program per build).
 *
 * One worker per process, unref'd so it never keeps the process alive: repeated builds in one
 * process (tests, watch loops) load the compiler once. `bin/gen.js` starts it before loading the
 * compiler (`prewarmTypecheck`), so TypeScript loads while the rest does. The worker lives on
 * `globalThis`, not in this module's scope, because jiti (module cache off) may evaluate this
 * module more than once in a process.
 */
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";

const WORKER = new URL("./typecheck.worker.mjs", import.meta.url);
const SHARED = Symbol.for("dagspec.typecheck-worker");

interface Pending {
  resolve(diagnostics: Diagnostic[]): void;
  reject(err: Error): void;
}

interface Shared {
  worker?: Worker;
  pending: Map<number, Pending>;
  nextId: number;
}

function shared(): Shared {
  const g = globalThis as typeof globalThis & { [SHARED]?: Shared };
  return (g[SHARED] ??= { pending: new Map(), nextId: 0 });
}

function startWorker(s: Shared): Worker {
  const w = new Worker(WORKER);
  w.unref();
  const failAll = (err: Error) => {
    if (s.worker === w) s.worker = undefined;
    for (const p of s.pending.values()) p.reject(err);
    s.pending.clear();
  };
  w.on("message", (msg: { id: number; diagnostics?: Diagnostic[]; error?: string }) => {
    const p = s.pending.get(msg.id);
    if (!p) return;
    s.pending.delete(msg.id);
    if (s.pending.size === 0) w.unref();
    if (msg.error !== undefined) p.reject(new Error(`type check failed: ${msg.error}`));
    else p.resolve(msg.diagnostics ?? []);
  });
  w.on("error", failAll);
  w.on("exit", (code) => failAll(new Error(`the type-check worker exited with code ${code}`)));
  return w;
}

/** Starts the worker (and its loading of TypeScript) now, ahead of the first check. */
export function prewarmTypecheck(): void {
  const s = shared();
  s.worker ??= startWorker(s);
}

export function typecheckInWorker(root: string, files: readonly string[]): Promise<Diagnostic[]> {
  const s = shared();
  const w = (s.worker ??= startWorker(s));
  const id = s.nextId++;
  return new Promise((resolve, reject) => {
    s.pending.set(id, { resolve, reject });
    // Keep the process alive while a check is outstanding; unref'd again when none is.
    w.ref();
    w.postMessage({ id, root, files: [...files] });
  });
}
