/**
 * accepted_values tests whose values cannot be literals of the column's type: PostgreSQL rejects
 * the test's query when it plans it (`invalid input syntax for type bigint: "USD"`), so the test
 * errors on every run, even on an empty table. Only columns whose type traces exactly to a declared
 * source column are checked (column-types.ts); for the rest nothing is known and nothing is said.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";
import type { SqlDeps } from "./sql-refs.ts";
import { columnTypeTracer, type TracedType } from "./column-types.ts";
import { literalProblem, literalText } from "./literal-fits.ts";
import { printable } from "../diagnostics/printable.ts";

export function checkAcceptedValues(
  spec: CheckedSpec,
  userModels: readonly string[],
  deps: ReadonlyMap<string, SqlDeps>,
  generatedTypes: ReadonlyMap<string, Record<string, TracedType>>,
  report: Reporter,
): void {
  const typeOf = columnTypeTracer(spec, deps, generatedTypes);
  for (const model of userModels) {
    const m = spec.models[model];
    for (const [column, doc] of Object.entries(m?.columns ?? {})) {
      (doc.tests ?? []).forEach((t, i) => {
        if (typeof t !== "object" || !("accepted_values" in t)) return;
        const traced = typeOf(model, column);
        if (!traced) return;
        t.accepted_values.values.forEach((v, j) => {
          const problem = literalProblem(traced.type, v);
          if (!problem) return;
          report.error(
            "DS1227",
            ["models", model, "columns", column, "tests", i, "accepted_values", "values", j],
            `accepted_values test on ${model}.${column}: "${printable(literalText(v), 80)}" is ${problem}, but ${model}.${column} is ${traced.type} (from ${traced.origin})`,
            `give values of type ${traced.type}: the test compares the column with each value as a literal of that type, and PostgreSQL refuses this one when it plans the query (even on an empty table)`,
          );
        });
      });
    }
  }
}
