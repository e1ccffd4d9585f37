// e2e variant of the seed pipeline whose source sensor pokes every 10 s and gives up after 3 min,
// so a test can hold the source "not ready" for a few seconds and watch the run wait, then go on.
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "e2e_metrics_fast_sensor",
  source: {
    ...seed.source,
    readiness: { ...seed.source.readiness, pokeIntervalSeconds: 10, timeoutMinutes: 3 },
  },
  lake: { kind: "local", path: "e2e_metrics_fast_sensor" },
  warehouse: { kind: "duckdb", path: "e2e_metrics_fast_sensor.duckdb" },
});
