/**
 * Test-only variant of the seed pipeline for the killed-worker test (test/python/live): one retry,
 * retried at once, so a killed try is retried and the killed retry fails the run. Delivery is due
 * late in the day, so no deadline fires while the test runs. Its own source connection (which the
 * test locks to hold the extract), lake and warehouse.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "live_killed",
  description: "Live-stack killed-worker test: the seed pipeline with one immediate retry.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 1, retryDelayMinutes: 0 },
  sla: { ...seed.sla!, deliverBy: "23:30" },
  source: {
    ...seed.source,
    connId: "app_db_killed",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "live_killed" },
  warehouse: { kind: "duckdb", path: "live_killed.duckdb" },
});
