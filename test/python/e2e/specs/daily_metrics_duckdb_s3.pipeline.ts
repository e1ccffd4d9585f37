// e2e variant of the seed pipeline: DuckDB warehouse, S3 lake (moto on loopback in the tests).
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "e2e_metrics_duckdb_s3",
  lake: { kind: "s3", bucket: "dagspec-e2e-lake", prefix: "duckdb_s3", connId: "aws_e2e" },
  warehouse: { kind: "duckdb", path: "e2e_metrics_duckdb_s3.duckdb" },
});
