/** Emits the dbt project for one pipeline under `dbt/<pipeline_id>/`. */
import type { PipelineIR } from "../../ir/types.ts";
import { sqlComment } from "../header.ts";
import { committedFilesMacro } from "./committed-files.ts";
import { dbtProjectYml, profilesYml } from "./project-files.ts";
import { asOfModels, modelSql, RANGE_TESTS, rangeMacros, singularTestSql, WHERE_SUBQUERY } from "./range-build.ts";
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
  const asOf = new Set(asOfModels(ir).map(([name]) => name));
  for (const m of ir.models) files.set(`${base}/models/${m.layer}/${m.name}.sql`, `${header}\n${modelSql(m, asOf)}`);
  for (const t of ir.singularTests) {
    const about = t.description ? `\n-- ${t.description}` : "";
    const severity = t.severity === "warn" ? `{{ config(severity='warn') }}\n` : "";
    files.set(`${base}/tests/${t.name}.sql`, `${header}${about}\n-- Returns the failing rows; any row fails the test.\n${severity}${singularTestSql(t, asOf)}`);
  }
  files.set(`${base}/macros/get_where_subquery.sql`, `${header}\n${WHERE_SUBQUERY}`);
  files.set(`${base}/macros/dagspec_range.sql`, `${header}\n${rangeMacros(ir)}`);
  files.set(`${base}/macros/dagspec_range_tests.sql`, `${header}\n${RANGE_TESTS}`);
  files.set(`${base}/macros/dagspec_committed_files.sql`, `${header}\n${committedFilesMacro(ir)}`);
  if (usesExpressionTests(ir)) files.set(`${base}/macros/dagspec_expression.sql`, `${header}\n${EXPRESSION_TEST}`);
  return files;
}
