/**
 * Runs the spec type check on a worker thread. Loading the TypeScript compiler and checking the
 * specs is most of a cold `gen build`; on its own thread it overlaps with executing, checking and
 * emitting the specs on the main thread, which never loads TypeScript unless a diagnostic needs a
 * source position. The check itself is unchanged (same options, a fresh program per build).
 *
 * One worker per process, started on first use and unref'd so it never keeps the process alive:
 * repeated builds in one process (tests, watch loops) load the compiler once.
 */
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";

const WORKER = new URL("./typecheck.worker.mjs", import.meta.url);

interface Pending {
  resolve(diagnostics: Diagnostic[]): void;
  reject(err: Error): void;
}

let worker: Worker | undefined;
const pending = new Map<number, Pending>();
let nextId = 0;

function startWorker(): Worker {
  const w = new Worker(WORKER);
  w.unref();
  const failAll = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  w.on("message", (msg: { id: number; diagnostics?: Diagnostic[]; error?: string }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (pending.size === 0) w.unref();
    if (msg.error !== undefined) p.reject(new Error(`type check failed: ${msg.error}`));
    else p.resolve(msg.diagnostics ?? []);
  });
  w.on("error", failAll);
  w.on("exit", (code) => failAll(new Error(`the type-check worker exited with code ${code}`)));
  return w;
}

export function typecheckInWorker(root: string, files: readonly string[]): Promise<Diagnostic[]> {
  worker ??= startWorker();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Keep the process alive while a check is outstanding; unref'd again when none is.
    w.ref();
    w.postMessage({ id, root, files: [...files] });
  });
}
