// e2e variant of the seed pipeline whose engineers have their own mail relay (`smtp_engineers`) and
// whose corrections alert the engineers instead of emailing the recipients a corrected report.
import { definePipeline } from "dagspec";
import seed from "../../../../specs/daily_metrics.pipeline.ts";

export default definePipeline({
  ...seed,
  id: "e2e_metrics_alerts",
  sla: { ...seed.sla!, smtpConnId: "smtp_engineers" },
  report: { ...seed.report, corrections: "alert" },
  lake: { kind: "local", path: "e2e_metrics_alerts" },
  warehouse: { kind: "duckdb", path: "e2e_metrics_alerts.duckdb" },
});
