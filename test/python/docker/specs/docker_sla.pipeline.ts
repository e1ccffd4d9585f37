/**
 * Test-only variant of the seed pipeline for the Docker stack's SLA test (test/python/docker): the
 * seed's source, models, tests and report with an SLA measured in minutes (at risk 1 minute after the
 * logical date, breached at 6), its own source connection, lake and warehouse. The sensor polls every
 * 10 s and nothing is retried, so the test sees the deadline pass while the source is held up.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "docker_sla",
  description: "Docker-stack SLA test: the seed pipeline with a 1-minute at-risk and 6-minute breach deadline.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 0 },
  sla: { ...seed.sla!, deliverBy: "06:06", atRiskLeadMinutes: 5 },
  source: {
    ...seed.source,
    connId: "app_db_sla",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "docker_sla" },
  warehouse: { kind: "duckdb", path: "docker_sla.duckdb" },
});
