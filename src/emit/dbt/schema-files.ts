/** models/sources.yml and models/schema.yml: sources over the lake, model docs, configs and tests. */
import { PARTITION_COLUMN, type ColumnTestIR, type ModelIR, type PipelineIR } from "../../ir/types.ts";
import { COMMITTED_FILES } from "./committed-files.ts";
import { hashComment } from "../header.ts";
import { warehouseTarget } from "../targets/select.ts";
import { yamlFile } from "./yaml-out.ts";

export function sourcesYml(ir: PipelineIR): string {
  const rawSchema = warehouseTarget(ir).rawSchema(ir);
  return yamlFile(hashComment(ir), {
    version: 2,
    sources: [
      {
        name: ir.source.name,
        description: `Raw extracts of connection ${ir.source.connId}, one Parquet partition per report day (ds).`,
        // On PostgreSQL the DAG loads each day's partitions into this schema first.
        schema: rawSchema,
        // On DuckDB the same source reads the lake's Parquet directly (hive partition column ds): every
        // day's files that the lake's committed day records list, never a glob of the folders, which
        // can hold an extract's uncommitted or superseded files (macros/dagspec_committed_files.sql
        // defines committed_files at the start of each run). dbt-duckdb fills {schema} and {name}.
        meta: {
          external_location: `read_parquet("{schema}".${COMMITTED_FILES}('{name}'), hive_partitioning = true, union_by_name = true)`,
        },
        tables: ir.source.tables.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          columns: [
            ...t.columns.map((c) => ({ name: c.name, data_type: c.type })),
            { name: PARTITION_COLUMN, data_type: "date", description: "The report day this row was extracted for." },
          ],
        })),
      },
    ],
  });
}

/**
 * dbt's accepted_values pastes each value between single quotes as it is, so `it's` ended the
 * literal early and the test's SQL did not parse: a quote inside is doubled, as SQL escapes it on
 * both PostgreSQL and DuckDB.
 */
/** Stands for the quoted report day in generated tests' `where` (see `WHERE_SUBQUERY` in emit-dbt). */
export const DAY_PLACEHOLDER = "'__dagspec_ds__'";

const inQuotes = (v: string | number) => (typeof v === "number" ? v : v.replace(/'/g, "''"));

function testYaml(t: ColumnTestIR, column: string, dayColumn: string | null): unknown {
  const settings = {
    ...(t.severity === "warn" ? { severity: "warn" } : {}),
    // Not `{{ var("ds") }}`: dbt renders test configs when it parses, so the day would force a new
    // parse every day. The project's get_where_subquery macro puts the day in when the test runs.
    ...(dayColumn ? { where: `${dayColumn} = ${DAY_PLACEHOLDER}` } : {}),
  };
  const config = Object.keys(settings).length ? { config: settings } : {};
  switch (t.kind) {
    case "unique":
    case "not_null":
      return Object.keys(settings).length ? { [t.kind]: config } : t.kind;
    case "accepted_values":
      return { accepted_values: { arguments: { values: t.values.map(inQuotes) }, ...config } };
    case "relationships":
      return { relationships: { arguments: { to: `ref('${t.to}')`, field: t.field }, ...config } };
    case "expression":
      return {
        dagspec_expression: {
          name: t.name,
          arguments: { expression: t.sql.replace(/\{column\}/g, column) },
          ...config,
        },
      };
    default: {
      const never: never = t;
      throw new Error(`no YAML for test ${JSON.stringify(never)}`);
    }
  }
}

function modelConfig(m: ModelIR): Record<string, unknown> {
  const mat = m.materialized;
  switch (mat.kind) {
    case "view":
    case "table":
      return { materialized: mat.kind };
    case "incremental":
      // delete+insert replaces the report day's rows on both DuckDB and PostgreSQL.
      return { materialized: "incremental", incremental_strategy: "delete+insert", unique_key: mat.uniqueKey, on_schema_change: "fail" };
    default: {
      const never: never = mat;
      throw new Error(`no config for ${JSON.stringify(never)}`);
    }
  }
}

export function schemaYml(ir: PipelineIR): string {
  return yamlFile(hashComment(ir), {
    version: 2,
    models: ir.models.map((m) => ({
      name: m.name,
      ...(m.description ? { description: m.description } : {}),
      config: modelConfig(m),
      columns: m.columns.map((c) => ({
        name: c.name,
        ...(c.description ? { description: c.description } : {}),
        ...(c.tests.length ? { data_tests: c.tests.map((t) => testYaml(t, c.name, m.dayColumn)) } : {}),
      })),
    })),
  });
}

export function usesExpressionTests(ir: PipelineIR): boolean {
  return ir.models.some((m) => m.columns.some((c) => c.tests.some((t) => t.kind === "expression")));
}
