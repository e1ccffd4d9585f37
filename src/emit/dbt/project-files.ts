/** dbt_project.yml and profiles.yml. Credentials come from environment variables, never literals. */
import type { PipelineIR } from "../../ir/types.ts";
import { hashComment } from "../header.ts";
import { yamlFile } from "./yaml-out.ts";

const env = (name: string, fallback?: string) => (fallback === undefined ? `{{ env_var('${name}') }}` : `{{ env_var('${name}', '${fallback}') }}`);

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
    vars: { ds: "1970-01-01" },
    models: { [ir.dbt.project]: { "+persist_docs": { relation: true, columns: true } } },
  });
}

/**
 * Both targets are always present so one project can be parsed (and run) on either warehouse; the
 * spec's warehouse is the default target. Models build into an audit schema; the DAG publishes
 * them after the tests pass.
 */
export function profilesYml(ir: PipelineIR): string {
  const duckdb: Record<string, unknown> = {
    type: "duckdb",
    path: env("DAGSPEC_DUCKDB_PATH", ":memory:"),
    schema: ir.warehouse.kind === "duckdb" ? ir.warehouse.auditSchema : "audit",
    threads: 1,
  };
  if (ir.lake.kind === "s3") {
    // Reads s3:// through fsspec (s3fs) registered on the connection: no httpfs extension download.
    duckdb.filesystems = [
      {
        fs: "s3",
        anon: false,
        key: env("DAGSPEC_S3_KEY", ""),
        secret: env("DAGSPEC_S3_SECRET", ""),
        client_kwargs: { endpoint_url: env("DAGSPEC_S3_ENDPOINT_URL", "https://s3.amazonaws.com"), region_name: env("DAGSPEC_S3_REGION", "us-east-1") },
      },
    ];
  }
  // The target the spec does not use still parses (`dbt parse` on either warehouse): it gets a placeholder schema.
  const pgSchema = ir.warehouse.kind === "postgres" ? ir.warehouse.auditSchema : `${ir.id}_audit`;
  return yamlFile(hashComment(ir), {
    [ir.dbt.project]: {
      target: ir.dbt.target,
      outputs: {
        duckdb,
        postgres: {
          type: "postgres",
          host: env("DAGSPEC_PG_HOST", "127.0.0.1"),
          port: `{{ env_var('DAGSPEC_PG_PORT', '5432') | as_number }}`,
          user: env("DAGSPEC_PG_USER", "postgres"),
          password: env("DAGSPEC_PG_PASSWORD", ""),
          dbname: env("DAGSPEC_PG_DBNAME", "postgres"),
          schema: pgSchema,
          threads: 4,
        },
      },
    },
  });
}
