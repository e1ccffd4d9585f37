/**
 * Progress for slow steps, on stderr. An asynchronous step (network, database) still running after
 * a second gets a line (`gen: reading the catalogue ...`) and, when it ends, how long it took; fast
 * ones print nothing. A step that blocks the event loop (the TypeScript type check) cannot be timed
 * from inside, so a step known to take seconds is announced at once (`eager`).
 */
export const PROGRESS_AFTER_MS = 1000;

export type Say = (s: string) => void;

export async function step<T>(say: Say, label: string, fn: () => Promise<T>, opts: { eager?: boolean; afterMs?: number } = {}): Promise<T> {
  const started = Date.now();
  let shown = false;
  const show = () => {
    shown = true;
    say(`gen: ${label} ...\n`);
  };
  if (opts.eager) show();
  const timer = opts.eager ? undefined : setTimeout(show, opts.afterMs ?? PROGRESS_AFTER_MS);
  try {
    return await fn();
  } finally {
    clearTimeout(timer);
    const ms = Date.now() - started;
    if (shown && ms >= PROGRESS_AFTER_MS) say(`gen: ${label}: done in ${(ms / 1000).toFixed(1)} s\n`);
  }
}

/** Progress off: for `--json` runs whose stderr carries data. */
export const silent: Say = () => {};
