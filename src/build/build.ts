/**
 * build(): spec files in, an in-memory map of generated files and diagnostics out. `gen build`
 * writes the map, `gen build --check` compares it with disk: its only two consumers.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { hasErrors, sortDiagnostics } from "../diagnostics/diagnostic.ts";
import { DEFAULT_HINTS } from "../diagnostics/codes.ts";
import type { PipelineIR } from "../ir/types.ts";
import type { Project } from "ts-morph";
import type { Position } from "../load/locate.ts";
import { discoverSpecFiles } from "../load/discover.ts";
import { loadSpec } from "../load/load-spec.ts";
import { typecheckInWorker } from "../load/typecheck-async.ts";
import { Reporter } from "../check/context.ts";
import { compileSpec } from "../check/compile-spec.ts";
import { emitAll } from "../emit/emit-all.ts";
import { oneLine, printable } from "../diagnostics/printable.ts";

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
  const discovered = discoverSpecFiles(root, specDir);
  const isSafe = (f: string) => SAFE_SPEC_PATH.test(f) && !f.split("/").includes("..");
  const specFiles = discovered.filter(isSafe);
  if (!discovered.length) {
    return {
      files: new Map(),
      pipelines: [],
      diagnostics: [{ code: "DS2002", severity: "error", file: specDir, path: "", message: `no *.pipeline.ts files in ${specDir}/` }],
    };
  }
  // The type check runs on its own thread while the specs are loaded and compiled here.
  const typecheck = options.skipTypecheck ? Promise.resolve([]) : typecheckInWorker(root, specFiles);
  const diagnostics: Diagnostic[] = discovered.filter((f) => !isSafe(f)).map(unsafeSpecPath);
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
    let ir: PipelineIR | undefined;
    try {
      ir = compileSpec(root, file, loaded.value, report);
    } catch (err) {
      // A crash is a compiler bug, but it is still reported at the spec, not as a stack trace.
      const first = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      report.error("DS1007", [], `internal error while compiling this spec: ${printable(first)}`, "this is a bug in gen; please report it with the spec file");
    }
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
  const sorted = sortDiagnostics(withoutEchoes(diagnostics)).map((d) => ({
    ...d,
    file: oneLine(d.file),
    message: oneLine(d.message),
    hint: oneLine(d.hint ?? DEFAULT_HINTS[d.code]),
  }));
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
 * Every generated file names its spec in a header comment (Python, SQL and YAML that dbt renders as
 * Jinja), so the path may hold only characters that cannot end the comment or open a template.
 */
const SAFE_SPEC_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/;

function unsafeSpecPath(file: string): Diagnostic {
  const shown = printable(file);
  return {
    code: "DS1005",
    severity: "error",
    file: shown,
    path: "",
    line: 1,
    col: 1,
    message: `the spec file path "${shown}" has characters a generated header cannot carry`,
    hint: "rename it to letters, digits, '_', '.', '-' (e.g. daily_metrics.pipeline.ts)",
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
