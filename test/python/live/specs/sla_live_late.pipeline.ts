/**
 * Test-only variant of the seed pipeline for the live-stack SLA tests (test/python/live): the same
 * source, models, tests and report, with an SLA measured in minutes so that it fires during a test.
 * The run reports "at risk" 1 minute after its logical date and breaches at 6 minutes: a run
 * triggered with a logical date 90 s in the past misses the first at once and has 4.5 minutes to
 * deliver before the second. The sensor polls every 10 s and nothing is retried, so a test sees
 * every state change within seconds.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "sla_live_late",
  description: "Live-stack SLA test: the seed pipeline with a 1-minute at-risk and 6-minute breach deadline.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 0 },
  sla: { ...seed.sla!, deliverBy: "06:06", atRiskLeadMinutes: 5 },
  source: {
    ...seed.source,
    connId: "app_db_late",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "sla_live_late" },
  warehouse: { kind: "duckdb", path: "sla_live_late.duckdb" },
});
