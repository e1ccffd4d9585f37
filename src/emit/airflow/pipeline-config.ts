/**
 * The `CONFIG` dict of a generated DAG: the runtime's whole view of the pipeline, in the shape of
 * the runtime contract (`src/ir/contract.ts`), which the `dagspec_runtime` package parses once at
 * DAG parse time. Every name and default comes from the IR; this only lays it out.
 */
import { CONTRACT_VERSION, type DeadlineKwargs, type RuntimeConfig } from "../../ir/contract.ts";
import type { PipelineIR } from "../../ir/types.ts";
import { lakeTarget, warehouseTarget } from "../targets/select.ts";

export function pipelineConfig(ir: PipelineIR): RuntimeConfig {
  return {
    contract_version: CONTRACT_VERSION,
    id: ir.id,
    timezone: ir.schedule.timezone,
    report_lag_days: ir.schedule.reportLagDays,
    spec_file: ir.specFile,
    spec_hash: ir.specHash,
    source: {
      conn_id: ir.source.connId,
      name: ir.source.name,
      tables: ir.source.tables.map((t) => ({
        name: t.name,
        schema: t.schema,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
        primary_key: t.primaryKey,
        mode: t.mode,
        cursor_column: t.cursorColumn,
      })),
    },
    lake: lakeTarget(ir).runtimeConfig(ir),
    warehouse: warehouseTarget(ir).runtimeConfig(ir),
    dbt: { project: ir.dbt.project, target: ir.dbt.target, range_build: ir.dbt.rangeBuild.ok },
    marts: ir.models
      .filter((m) => m.layer === "marts")
      .map((m) => ({
        name: m.name,
        materialized: m.materialized.kind,
        partition_column: m.materialized.kind === "incremental" ? m.materialized.partitionColumn : null,
        unique_key: m.materialized.kind === "incremental" ? m.materialized.uniqueKey : [],
      })),
    report: {
      model: ir.report.model,
      day_column: ir.report.dayColumn,
      kpis: ir.report.kpis.map((k) => ({ column: k.column, label: k.label, format: k.format })),
      subject: ir.report.subject,
      recipients: ir.report.recipients,
      smtp_conn_id: ir.report.smtpConnId,
      currency: ir.report.currency,
      email_backfills: ir.report.emailBackfills,
      corrections: ir.report.corrections,
    },
    alerts: {
      pagerduty_conn_id: ir.sla?.pagerdutyConnId ?? null,
      severity: ir.sla?.pagerdutySeverity ?? "critical",
      engineers: ir.sla?.engineers ?? [],
      smtp_conn_id: ir.sla?.smtpConnId ?? ir.report.smtpConnId,
      deliver_by: ir.sla?.deliverBy ?? null,
    },
    names: {
      env: snakeKeys(ir.names.env) as RuntimeConfig["names"]["env"],
      raw_partition: ir.names.rawPartition,
      report_folder: ir.names.reportFolder,
    },
  };
}

const snakeKeys = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));

/** The kwargs of one of the SLA's DeadlineAlert callbacks (`stage`), in the contract's shape. */
export function deadlineKwargs(ir: PipelineIR, sla: NonNullable<PipelineIR["sla"]>, stage: DeadlineKwargs["stage"]): DeadlineKwargs {
  return {
    pipeline_id: ir.id,
    stage,
    deliver_by: sla.deliverBy,
    timezone: ir.schedule.timezone,
    report_lag_days: ir.schedule.reportLagDays,
    pagerduty_conn_id: sla.pagerdutyConnId,
    severity: stage === "breach" ? sla.pagerdutySeverity : "warning",
    // Upstream first: a late run's page names the earliest task holding it up.
    task_order: ir.tasks.map((t) => t.id),
  };
}
