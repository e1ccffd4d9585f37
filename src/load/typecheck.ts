/**
 * Type-checks spec files with the TypeScript compiler (through ts-morph), so the errors an editor
 * shows are build errors too: an unknown column in a KPI, a ref() to a model that does not exist.
 */
import { Project, ts } from "ts-morph";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";

const PACKAGE_ENTRY = fileURLToPath(new URL("../index.ts", import.meta.url));

export function createSpecProject(): Project {
  return new Project({
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      // The ECMAScript library only: a spec is configuration evaluated by Node, not browser code,
      // and the DOM declarations (lib.dom.d.ts, the largest lib file) were most of the check's time.
      lib: ["lib.es2022.d.ts"],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: [],
      paths: { dagspec: [PACKAGE_ENTRY] },
    },
    skipAddingFilesFromTsConfig: true,
  });
}

export function typecheckSpecs(project: Project, root: string, files: readonly string[]): Diagnostic[] {
  const sources = files.map((f) => project.addSourceFileAtPath(join(root, f)));
  const out: Diagnostic[] = [];
  for (const sf of sources) {
    for (const d of sf.getPreEmitDiagnostics()) {
      if (d.getCategory() !== ts.DiagnosticCategory.Error) continue;
      const start = d.getStart();
      const pos = start === undefined ? undefined : sf.getLineAndColumnAtPos(start);
      const text = ts.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n");
      out.push({
        code: "DS1001",
        severity: "error",
        file: relative(root, sf.getFilePath()).split("\\").join("/"),
        path: "",
        ...(pos ? { line: pos.line, col: pos.column } : {}),
        message: `TS${d.getCode()}: ${text.split("\n")[0]}`,
      });
    }
  }
  return out;
}
