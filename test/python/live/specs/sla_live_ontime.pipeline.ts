/**
 * Test-only variant of the seed pipeline for the live-stack SLA tests (test/python/live): a run
 * that delivers well inside its deadline (at risk at 10 minutes, breached at 15) must page nobody.
 * Its own source connection, lake and warehouse keep it apart from sla_live_late, which the tests
 * hold up with a maintenance window at the same time.
 */
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "sla_live_ontime",
  description: "Live-stack SLA test: the seed pipeline delivering inside a 10-minute at-risk deadline.",
  tags: ["dagspec-test"],
  schedule: { ...seed.schedule, retries: 0 },
  sla: { ...seed.sla!, deliverBy: "06:15", atRiskLeadMinutes: 5 },
  source: {
    ...seed.source,
    connId: "app_db_ontime",
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 15 },
  },
  lake: { kind: "local", path: "sla_live_ontime" },
  warehouse: { kind: "duckdb", path: "sla_live_ontime.duckdb" },
});
