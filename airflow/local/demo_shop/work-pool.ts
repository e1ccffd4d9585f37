/**
 * Runs independent SQL statements on a few connections at once. PostgreSQL runs an INSERT ... SELECT
 * on one core, so on a 2-core machine two connections halve the seeding time.
 */
import pg from "pg";

export interface SqlJob {
  /** For error messages and timing. */
  label: string;
  sql: string;
  /** Relative cost, used to start the biggest jobs first (longest-processing-time scheduling). */
  weight: number;
}

export interface JobResult {
  label: string;
  rowCount: number;
  seconds: number;
}

/** Settings for bulk work: its durability is the seed's completion marker, not each commit. */
const SESSION_SETUP = `
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET max_parallel_maintenance_workers = 0;
`;

/** Runs `jobs` on `parallelism` fresh connections; the first failure stops the queue and is thrown. */
export async function runJobs(databaseUrl: string, jobs: readonly SqlJob[], parallelism: number): Promise<JobResult[]> {
  const queue = [...jobs].sort((a, b) => b.weight - a.weight || a.label.localeCompare(b.label));
  const results: JobResult[] = [];
  let failure: unknown;
  const worker = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(SESSION_SETUP);
      for (let job = queue.shift(); job && failure === undefined; job = queue.shift()) {
        const t0 = performance.now();
        try {
          const res = await client.query(job.sql);
          results.push({ label: job.label, rowCount: res.rowCount ?? 0, seconds: (performance.now() - t0) / 1000 });
        } catch (err) {
          failure ??= Object.assign(new Error(`demo seed job ${job.label} failed: ${(err as Error).message}`), { cause: err });
        }
      }
    } finally {
      await client.end();
    }
  };
  const n = Math.max(1, Math.min(parallelism, queue.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failure !== undefined) throw failure;
  return results;
}
