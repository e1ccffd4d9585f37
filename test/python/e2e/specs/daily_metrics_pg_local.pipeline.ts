// e2e variant of the seed pipeline: PostgreSQL warehouse, local lake.
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "e2e_metrics_pg_local",
  lake: { kind: "local", path: "e2e_metrics_pg_local" },
  warehouse: { kind: "postgres", connId: "warehouse_db", schema: "analytics" },
});
