/**
 * Test-only variant of the seed pipeline for the Docker stack's backfill test (test/python/docker):
 * four past days over two Celery workers, one of them killed mid-way. One retry, at once, so the
 * task the killed worker was running is retried (on the other worker) as soon as the scheduler
 * declares it lost. Its own source connection, lake and warehouse; the sensor polls every 10 s.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "docker_backfill",
  description: "Docker-stack backfill test: the seed pipeline over four past days on two workers.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 1, retryDelayMinutes: 0 },
  source: {
    ...seed.source,
    connId: "app_db_backfill",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "docker_backfill" },
  warehouse: { kind: "duckdb", path: "docker_backfill.duckdb" },
});
