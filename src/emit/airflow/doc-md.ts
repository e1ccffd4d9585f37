/** The DAG's doc_md: what an operator reads in the Airflow UI before touching a run. */
import type { PipelineIR } from "../../ir/types.ts";
import { fillLayout } from "../../ir/names.ts";
import { lakeTarget, warehouseTarget } from "../targets/select.ts";

function lineage(ir: PipelineIR): string[] {
  const lines: string[] = [];
  for (const t of ir.source.tables) lines.push(`- \`${ir.source.connId}\`: \`${t.schema}.${t.name}\` -> lake \`${fillLayout(ir.names.rawPartition, { table: t.name, ds: "<day>" })}/\``);
  for (const m of ir.models) {
    const inputs = [...m.sources.map((s) => `raw ${s}`), ...m.refs];
    lines.push(`- \`${m.name}\` (${m.layer}, ${m.materialized.kind}) <- ${inputs.join(", ") || "nothing"}`);
  }
  lines.push(`- report <- \`${ir.report.model}\` (${ir.report.kpis.map((k) => k.column).join(", ")})`);
  return lines;
}

export function docMd(ir: PipelineIR): string {
  const lake = lakeTarget(ir).describe(ir);
  const wh = warehouseTarget(ir).describe(ir);
  const sla = ir.sla
    ? [
        `Delivered by **${ir.sla.deliverBy} ${ir.schedule.timezone}**. At risk at ${ir.sla.atRiskLeadMinutes} min before: PagerDuty (\`${ir.sla.pagerdutyConnId}\`, ${ir.sla.pagerdutySeverity}); missed: PagerDuty again on the same incident (one per pipeline and day).`,
        `Failures page PagerDuty and email ${ir.sla.engineers.join(", ")} (through \`${ir.sla.smtpConnId}\`) at the same time.`,
      ]
    : ["No SLA declared."];
  return [
    `# ${ir.id}`,
    "",
    ir.description,
    "",
    "## What it delivers",
    `An email to ${ir.report.recipients.join(", ")} with ${ir.report.kpis.map((k) => `${k.label} (\`${k.column}\`)`).join(", ")} from \`${ir.report.model}\`, archived under \`${fillLayout(ir.names.reportFolder, { pipeline: ir.id, ds: "<day>" })}/\` in the lake.`,
    `Each run reports on the local calendar day ${ir.schedule.reportLagDays} day(s) before its scheduled start (\`${ir.schedule.cron}\`, ${ir.schedule.timezone}).`,
    "",
    "## SLA",
    ...sla,
    "",
    "## Quality gates",
    "dbt tests of error severity block publishing; warn-severity results are shown in the report.",
    "",
    "## Lineage",
    ...lineage(ir),
    "",
    `**[dbt docs: the lineage graph](/dagspec/dbt-docs/${ir.id}/)** (served by the dagspec_docs plugin from \`dbt docs generate\`).`,
    "",
    `Lake: ${lake}. Warehouse: ${wh}. dbt project: \`dbt/${ir.id}\`.`,
    "",
    "## Source",
    `Compiled by dagspec from \`${ir.specFile}\` (spec hash \`${ir.specHash}\`). Edit the spec, not this file.`,
  ].join("\n");
}
