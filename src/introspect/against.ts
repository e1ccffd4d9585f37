/**
 * `gen build --against <conn>`: reads the catalogue of every schema the specs declare and turns the
 * drift findings into diagnostics at the spec's location of the table or column, following spreads
 * into an introspected module, so the editor jumps to the declaration that no longer holds.
 */
import { join, relative } from "node:path";
import type { PipelineIR } from "../ir/types.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { createSpecProject } from "../load/typecheck.ts";
import { locateDeep } from "../load/locate.ts";
import { ConnError, resolveConn } from "./conn.ts";
import { CatalogReadError, readSchemas } from "./read.ts";
import { compareSources, declaredSchemas } from "./source-drift.ts";

export async function checkAgainst(root: string, pipelines: readonly PipelineIR[], conn: string): Promise<Diagnostic[]> {
  let catalogs;
  try {
    catalogs = await readSchemas(resolveConn(conn), declaredSchemas(pipelines));
  } catch (err) {
    if (!(err instanceof ConnError || err instanceof CatalogReadError)) throw err;
    return [
      {
        code: "DS1305",
        severity: "error",
        file: pipelines[0]?.specFile ?? "specs",
        path: "",
        message: err.message,
        hint: "check the URL or AIRFLOW_CONN_<ID> given to --against, and that the server accepts connections",
      },
    ];
  }
  const findings = compareSources(pipelines, catalogs);
  if (!findings.length) return [];
  const project = createSpecProject();
  return findings.map((f) => {
    const sf = project.getSourceFile(join(root, f.specFile)) ?? project.addSourceFileAtPath(join(root, f.specFile));
    const pos = locateDeep(sf, f.path);
    return {
      code: f.code,
      severity: f.severity,
      file: relative(root, pos.filePath).split("\\").join("/"),
      path: f.path.join("."),
      line: pos.line,
      col: pos.col,
      message: f.message,
      ...(f.hint ? { hint: f.hint } : {}),
    };
  });
}
