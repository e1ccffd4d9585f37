/** Emits the dbt project for one pipeline under `dbt/<pipeline_id>/`. */
import type { PipelineIR } from "../../ir/types.ts";
import { sqlComment } from "../header.ts";
import { committedFilesMacro } from "./committed-files.ts";
import { dbtProjectYml, profilesYml } from "./project-files.ts";
import { DAY_PLACEHOLDER, schemaYml, sourcesYml, usesExpressionTests } from "./schema-files.ts";

const EXPRESSION_TEST = `{% test dagspec_expression(model, column_name, expression) %}
-- Rows where the expression is false are failures (NULL counts as a failure: it was not shown true).
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
`;

/**
 * dbt's own get_where_subquery, with the report day put into generated tests' \`where\` when the
 * test runs. dbt renders test configs while it parses the project; with the day there, every day
 * would need a parse of its own. This way one parse serves every day's build (dagspec_runtime's
 * dbt_child reuses it).
 */
const WHERE_SUBQUERY = `{% macro get_where_subquery(relation) -%}
    {%- set where = (config.get('where') or '') | replace("${DAY_PLACEHOLDER}", "'" ~ var('ds') ~ "'") -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
`;

export function emitDbt(ir: PipelineIR): Map<string, string> {
  const base = `dbt/${ir.dbt.project}`;
  const header = sqlComment(ir);
  const files = new Map<string, string>();
  files.set(`${base}/dbt_project.yml`, dbtProjectYml(ir));
  files.set(`${base}/profiles.yml`, profilesYml(ir));
  files.set(`${base}/models/sources.yml`, sourcesYml(ir));
  files.set(`${base}/models/schema.yml`, schemaYml(ir));
  for (const m of ir.models) files.set(`${base}/models/${m.layer}/${m.name}.sql`, `${header}\n${m.sql}`);
  for (const t of ir.singularTests) {
    const about = t.description ? `\n-- ${t.description}` : "";
    const severity = t.severity === "warn" ? `{{ config(severity='warn') }}\n` : "";
    files.set(`${base}/tests/${t.name}.sql`, `${header}${about}\n-- Returns the failing rows; any row fails the test.\n${severity}${t.sql}`);
  }
  files.set(`${base}/macros/get_where_subquery.sql`, `${header}\n${WHERE_SUBQUERY}`);
  files.set(`${base}/macros/dagspec_committed_files.sql`, `${header}\n${committedFilesMacro(ir)}`);
  if (usesExpressionTests(ir)) files.set(`${base}/macros/dagspec_expression.sql`, `${header}\n${EXPRESSION_TEST}`);
  return files;
}
