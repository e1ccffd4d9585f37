/**
 * Source drift: every declared source table of every pipeline against the live catalogue. A missing
 * table, a dropped column or a column whose type no longer maps to the declared one is an error (the
 * next extract would fail or load the wrong type); a column the source added is a note (nothing
 * breaks, but the spec may want it). Pure: the caller reads the catalogue and places the findings.
 */
import type { PipelineIR } from "../ir/types.ts";
import type { Code } from "../diagnostics/codes.ts";
import type { Severity } from "../diagnostics/diagnostic.ts";
import type { CatalogTable } from "./catalog.ts";
import { mapColumnType } from "./type-map.ts";

export interface DriftFinding {
  specFile: string;
  /** Field path in the spec, e.g. `["source", "tables", "orders", "columns", "amount"]`. */
  path: string[];
  code: Code;
  severity: Severity;
  message: string;
  hint?: string;
}

/** Schemas the pipelines read, so the caller reads each catalogue once. */
export function declaredSchemas(pipelines: readonly PipelineIR[]): string[] {
  return [...new Set(pipelines.flatMap((p) => p.source.tables.map((t) => t.schema)))].sort();
}

export function compareSources(pipelines: readonly PipelineIR[], catalogs: ReadonlyMap<string, readonly CatalogTable[]>): DriftFinding[] {
  const out: DriftFinding[] = [];
  for (const p of pipelines) {
    for (const t of p.source.tables) {
      const at = ["source", "tables", t.name];
      const live = catalogs.get(t.schema)?.find((c) => c.name === t.name);
      if (!live) {
        out.push({
          specFile: p.specFile,
          path: at,
          code: "DS1301",
          severity: "error",
          message: `source table ${t.schema}.${t.name} does not exist in the live database`,
          hint: "check the table's schema and name, or remove it from the spec",
        });
        continue;
      }
      const liveCols = new Map(live.columns.map((c) => [c.name, c]));
      for (const c of t.columns) {
        const path = [...at, "columns", c.name];
        const lc = liveCols.get(c.name);
        if (!lc) {
          out.push({
            specFile: p.specFile,
            path,
            code: "DS1302",
            severity: "error",
            message: `column ${c.name} of ${t.schema}.${t.name} no longer exists in the live database`,
            hint: "remove it from the spec (and from the models that read it), or re-run `gen introspect`",
          });
          continue;
        }
        const mapped = mapColumnType(lc);
        if (!mapped.ok || mapped.type !== c.type) {
          out.push({
            specFile: p.specFile,
            path,
            code: "DS1303",
            severity: "error",
            message: `column ${t.name}.${c.name} is declared ${c.type} but is ${lc.type} in the live database${mapped.ok ? "" : ` (${mapped.reason})`}`,
            hint: mapped.ok ? `declare it as "${mapped.type}" (or re-run \`gen introspect\`) and check the models that read it` : "cast it in a view on the source and extract the view",
          });
        }
      }
      const declared = new Set(t.columns.map((c) => c.name));
      const added = live.columns.filter((c) => !declared.has(c.name)).map((c) => `${c.name} (${c.type})`);
      if (added.length) {
        out.push({
          specFile: p.specFile,
          path: [...at, "columns"],
          code: "DS1304",
          severity: "note",
          message: `${t.schema}.${t.name} has column(s) the spec does not declare: ${added.join(", ")}`,
          hint: "declare them if a model needs them; nothing breaks if not",
        });
      }
    }
  }
  return out;
}
