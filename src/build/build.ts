/**
 * build(): spec files in, an in-memory map of generated files and diagnostics out. `gen build`
 * writes the map, `gen build --check` compares it with disk: its only two consumers.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { hasErrors, sortDiagnostics } from "../diagnostics/diagnostic.ts";
import type { PipelineIR } from "../ir/types.ts";
import type { Project } from "ts-morph";
import type { Position } from "../load/locate.ts";
import { discoverSpecFiles } from "../load/discover.ts";
import { loadSpec } from "../load/load-spec.ts";
import { typecheckInWorker } from "../load/typecheck-async.ts";
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
  // The type check runs on its own thread while the specs are loaded and compiled here.
  const typecheck = options.skipTypecheck ? Promise.resolve([]) : typecheckInWorker(root, specFiles);
  const diagnostics: Diagnostic[] = [];
  const locator = lazyLocator(root);
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
    for (const d of report.diagnostics) {
      if (d.file === file && d.line === undefined) Object.assign(d, await locator(file, d.path));
      diagnostics.push(d);
    }
  }
  diagnostics.push(...(await typecheck));
  const sorted = sortDiagnostics(withoutEchoes(diagnostics));
  if (hasErrors(sorted)) return { files: new Map(), diagnostics: sorted, pipelines };
  return { files: emitAll(pipelines), diagnostics: sorted, pipelines };
}

/**
 * Positions for diagnostics that carry only a field path. ts-morph (and the TypeScript compiler
 * under it) is loaded on the first such diagnostic only: a clean build never pays for it here.
 */
function lazyLocator(root: string): (file: string, path: string) => Promise<Partial<Position>> {
  let project: Project | undefined;
  let locateFn: typeof import("../load/locate.ts").locate | undefined;
  return async (file, path) => {
    const abs = join(root, file);
    if (!existsSync(abs)) return {};
    if (!project || !locateFn) {
      project = (await import("../load/typecheck.ts")).createSpecProject();
      locateFn = (await import("../load/locate.ts")).locate;
    }
    const sf = project.getSourceFile(abs) ?? project.addSourceFileAtPath(abs);
    return locateFn(sf, path ? path.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : []);
  };
}

/**
 * A cross-check that fires at the very position where the TypeScript compiler already reported an
 * error says the same thing twice; keep the compiler's, which is what the editor shows.
 */
function withoutEchoes(diagnostics: Diagnostic[]): Diagnostic[] {
  const typed = new Set(diagnostics.filter((d) => d.code === "DS1001").map((d) => `${d.file}:${d.line}:${d.col}`));
  return diagnostics.filter((d) => d.code === "DS1001" || !typed.has(`${d.file}:${d.line}:${d.col}`));
}
