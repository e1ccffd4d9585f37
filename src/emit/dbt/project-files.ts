/** dbt_project.yml and profiles.yml. Credentials come from environment variables, never literals. */
import type { PipelineIR } from "../../ir/types.ts";
import { hashComment } from "../header.ts";
import { lakeTarget, WAREHOUSE_TARGETS } from "../targets/select.ts";
import { yamlFile } from "./yaml-out.ts";

export function dbtProjectYml(ir: PipelineIR): string {
  return yamlFile(hashComment(ir), {
    name: ir.dbt.project,
    version: "1.0.0",
    "config-version": 2,
    profile: ir.dbt.project,
    "model-paths": ["models"],
    "test-paths": ["tests"],
    "macro-paths": ["macros"],
    "target-path": "target",
    "clean-targets": ["target", "logs"],
    // The report day; every run passes --vars '{"ds": "YYYY-MM-DD"}'. The default only lets `dbt parse` run.
    // A backfill's range build adds "dagspec_first_day" (macros/dagspec_range.sql).
    vars: { ds: "1970-01-01" },
    // On DuckDB, which of the lake's files the sources read: those the committed day records list
    // (macros/dagspec_committed_files.sql). Nothing on PostgreSQL.
    "on-run-start": ["{{ dagspec_committed_files() }}"],
    models: { [ir.dbt.project]: { "+persist_docs": { relation: true, columns: true } } },
  });
}

/**
 * Both targets are always present so one project can be parsed (and run) on either warehouse; the
 * spec's warehouse is the default target. Models build into an audit schema; the DAG publishes
 * them after the tests pass.
 */
export function profilesYml(ir: PipelineIR): string {
  const lake = lakeTarget(ir);
  const outputs = Object.fromEntries(Object.entries(WAREHOUSE_TARGETS).map(([name, target]) => [name, target.profileOutput(ir, lake)]));
  return yamlFile(hashComment(ir), { [ir.dbt.project]: { target: ir.dbt.target, outputs } });
}
