/**
 * Golden cases: each folder under test/cases holds `specs/` and `expected/`. A passing case's
 * expected/ is the exact generated tree; a failing case's expected/stderr.txt is the exact
 * diagnostics output. `UPDATE_GOLDEN=1 npx vitest run test/golden` rewrites expectations.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../../src/build/build.ts";
import { listFiles } from "../../src/build/output.ts";
import { renderText, summaryLine } from "../../src/diagnostics/render.ts";
import { hasErrors } from "../../src/diagnostics/diagnostic.ts";

const CASES = fileURLToPath(new URL("../cases/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";

describe("golden cases", () => {
  for (const name of readdirSync(CASES).sort()) {
    const dir = join(CASES, name);
    it(name, async () => {
      const result = await build({ root: dir, specDir: "specs" });
      const expected = join(dir, "expected");
      const stderrFile = join(expected, "stderr.txt");
      if (hasErrors(result.diagnostics)) {
        const text = renderText(result.diagnostics) + summaryLine(result.diagnostics);
        if (update) {
          rmSync(expected, { recursive: true, force: true });
          mkdirSync(expected, { recursive: true });
          writeFileSync(stderrFile, text);
        }
        expect(existsSync(stderrFile), `${name} failed to build:\n${text}`).toBe(true);
        expect(text).toBe(readFileSync(stderrFile, "utf8"));
        expect(result.files.size).toBe(0);
        return;
      }
      if (update) {
        rmSync(expected, { recursive: true, force: true });
        for (const [path, text] of result.files) {
          mkdirSync(dirname(join(expected, path)), { recursive: true });
          writeFileSync(join(expected, path), text);
        }
      }
      expect(existsSync(stderrFile), `${name} was expected to fail`).toBe(false);
      expect([...result.files.keys()].sort()).toEqual(listFiles(expected));
      for (const [path, text] of result.files) expect(text, path).toBe(readFileSync(join(expected, path), "utf8"));
    });
  }
});
