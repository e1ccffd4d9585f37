/**
 * The build that `gen deploy` and `gen status` start from: the same in-memory map `gen build`
 * writes, so what is deployed is byte for byte what `gen build` would put in generated/. With
 * errors, diagnostics are printed and nothing else happens.
 */
import type { Io } from "./io.ts";
import { build, type BuildResult } from "../build/build.ts";
import { hasErrors } from "../diagnostics/diagnostic.ts";
import { renderJson, renderText, summaryLine } from "../diagnostics/render.ts";
import { step, type Say } from "./progress.ts";

export async function buildOrReport(io: Io, say: Say, root: string, specDir: string, json: boolean, command: string): Promise<BuildResult | null> {
  const result = await step(say, "compiling the specs", () => build({ root, specDir }), { eager: true });
  if (!hasErrors(result.diagnostics)) return result;
  io.stderr(json ? renderJson(result.diagnostics) : `${renderText(result.diagnostics)}${summaryLine(result.diagnostics)}gen ${command}: the specs do not compile; nothing done (fix the errors above, \`gen build\` shows the same)\n`);
  return null;
}
