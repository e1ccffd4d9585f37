/** Emits the dbt project for one pipeline under `dbt/<pipeline_id>/`. */
import type { PipelineIR } from "../../ir/types.ts";
import { sqlComment } from "../header.ts";
import { dbtProjectYml, profilesYml } from "./project-files.ts";
import { schemaYml, sourcesYml, usesExpressionTests } from "./schema-files.ts";

const EXPRESSION_TEST = `{% test dagspec_expression(model, column_name, expression) %}
-- Rows where the expression is false are failures (NULL counts as a failure: it was not shown true).
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
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
  if (usesExpressionTests(ir)) files.set(`${base}/macros/dagspec_expression.sql`, `${header}\n${EXPRESSION_TEST}`);
  return files;
}
