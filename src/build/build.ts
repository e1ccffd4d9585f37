/**
 * build(): spec files in, an in-memory map of generated files and diagnostics out. `gen build`
 * writes the map, `gen build --check` compares it with disk: its only two consumers.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { hasErrors, sortDiagnostics } from "../diagnostics/diagnostic.ts";
import type { PipelineIR } from "../ir/types.ts";
import { discoverSpecFiles } from "../load/discover.ts";
import { loadSpec } from "../load/load-spec.ts";
import { createSpecProject, typecheckSpecs } from "../load/typecheck.ts";
import { locate } from "../load/locate.ts";
import { Reporter } from "../check/context.ts";
import { compileSpec } from "../check/compile-spec.ts";
import { emitAll } from "../emit/emit-all.ts";

export interface BuildOptions {
  /** Project root: spec paths in diagnostics and headers are relative to it. */
  root: string;
  /** Folder holding `*.pipeline.ts`, relative to root. Default `specs`. */
  specDir?: string;
  /** Skip the TypeScript type check (faster; zod and cross-checks still run). */
  skipTypecheck?: boolean;
}

export interface BuildResult {
  /** Paths relative to the output folder. Empty when there are errors. */
  files: Map<string, string>;
  diagnostics: Diagnostic[];
  pipelines: PipelineIR[];
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const { root } = options;
  const specDir = options.specDir ?? "specs";
  const specFiles = discoverSpecFiles(root, specDir);
  if (!specFiles.length) {
    return {
      files: new Map(),
      pipelines: [],
      diagnostics: [{ code: "DS2002", severity: "error", file: specDir, path: "", message: `no *.pipeline.ts files in ${specDir}/` }],
    };
  }
  const project = createSpecProject();
  const diagnostics: Diagnostic[] = options.skipTypecheck ? [] : typecheckSpecs(project, root, specFiles);
  const pipelines: PipelineIR[] = [];
  const owners = new Map<string, string>();

  for (const file of specFiles) {
    const report = new Reporter(file);
    const loaded = await loadSpec(root, file);
    if (!loaded.ok) {
      diagnostics.push(loaded.diagnostic);
      continue;
    }
    const ir = compileSpec(root, file, loaded.value, report);
    const id = typeof loaded.value.id === "string" ? loaded.value.id : undefined;
    if (id && owners.has(id)) report.error("DS1206", ["id"], `pipeline id '${id}' is already used by ${owners.get(id)}`);
    else if (id) owners.set(id, file);
    if (ir && !hasErrors(report.diagnostics)) pipelines.push(ir);
    const sf = project.getSourceFile(join(root, file)) ?? (existsSync(join(root, file)) ? project.addSourceFileAtPath(join(root, file)) : undefined);
    for (const d of report.diagnostics) {
      if (d.file === file && d.line === undefined && sf) Object.assign(d, locate(sf, d.path ? d.path.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : []));
      diagnostics.push(d);
    }
  }
  const sorted = sortDiagnostics(withoutEchoes(diagnostics));
  if (hasErrors(sorted)) return { files: new Map(), diagnostics: sorted, pipelines };
  return { files: emitAll(pipelines), diagnostics: sorted, pipelines };
}

/**
 * A cross-check that fires at the very position where the TypeScript compiler already reported an
 * error says the same thing twice; keep the compiler's, which is what the editor shows.
 */
function withoutEchoes(diagnostics: Diagnostic[]): Diagnostic[] {
  const typed = new Set(diagnostics.filter((d) => d.code === "DS1001").map((d) => `${d.file}:${d.line}:${d.col}`));
  return diagnostics.filter((d) => d.code === "DS1001" || !typed.has(`${d.file}:${d.line}:${d.col}`));
}
