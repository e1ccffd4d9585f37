/**
 * An expression test's SQL is pasted by the dagspec_expression macro into
 * `where not coalesce((<expression>), false)`: it must be one boolean expression that parses there,
 * or the test fails at run time instead of here. The formatter never sees it, only the parser.
 */
import sqlParser from "node-sql-parser";
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import { oneLineMessage } from "./sql-text.ts";

const parser = new sqlParser.Parser();

export function checkExpressionTests(spec: CheckedSpec, report: Reporter): void {
  for (const [model, m] of Object.entries(spec.models)) {
    for (const [column, doc] of Object.entries(m.columns)) {
      (doc.tests ?? []).forEach((t, i) => {
        if (typeof t !== "object" || !("expression" in t)) return;
        const expr = t.expression.sql.replace(/\{column\}/g, column);
        try {
          parser.parse(`select * from t where not coalesce((${expr}), false)`, { database: "PostgresQL" });
        } catch (err) {
          report.error(
            "DS1207",
            ["models", model, "columns", column, "tests", i, "expression", "sql"],
            `expression test ${t.expression.name} on ${model}.${column} does not parse as one boolean expression: ${oneLineMessage(err instanceof Error ? err.message : err)}`,
            'a SQL condition over the column, e.g. "{column} >= 0"',
          );
        }
      });
    }
  }
}
