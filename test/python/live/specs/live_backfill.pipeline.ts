/**
 * Test-only variant of the seed pipeline for the live-stack backfill test (test/python/live): the
 * seed's SLA (measured from each run's own day, so every backfilled run has long missed it) and
 * report, its own source connection, lake and warehouse. The sensor polls every 10 s and nothing is
 * retried.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "live_backfill",
  description: "Live-stack backfill test: the seed pipeline over a range of past days.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 0 },
  source: {
    ...seed.source,
    connId: "app_db_backfill",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "live_backfill" },
  warehouse: { kind: "duckdb", path: "live_backfill.duckdb" },
});
