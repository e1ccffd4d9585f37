/** The spec hash covers the local modules a spec imports, so a re-introspected source module makes the spec stale. */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { localImports } from "../../src/load/local-imports.ts";
import { build } from "../../src/build/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("local imports of a spec", () => {
  it("are found transitively, with or without an extension, and nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), "dagspec-imports-"));
    try {
      mkdirSync(join(dir, "specs/sources"), { recursive: true });
      writeFileSync(join(dir, "specs/a.pipeline.ts"), 'import { definePipeline } from "dagspec";\nimport { tables } from "./sources/app.ts";\nexport { x } from "./shared";\n');
      writeFileSync(join(dir, "specs/sources/app.ts"), 'import type { T } from "../types.ts";\n');
      writeFileSync(join(dir, "specs/types.ts"), "export type T = 1;\n");
      writeFileSync(join(dir, "specs/shared.ts"), 'import { a } from "./a.pipeline.ts";\n');
      expect(localImports(dir, "specs/a.pipeline.ts")).toEqual(["specs/shared.ts", "specs/sources/app.ts", "specs/types.ts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("change the spec hash when they change, while the spec file does not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dagspec-imports-"));
    try {
      mkdirSync(join(dir, "specs"), { recursive: true });
      const seed = readFileSync(join(ROOT, "specs/daily_metrics.pipeline.ts"), "utf8");
      writeFileSync(join(dir, "specs/daily_metrics.pipeline.ts"), seed.replace('owner: "data-platform",', "owner: OWNER,").replace('import { definePipeline } from "dagspec";', 'import { definePipeline } from "dagspec";\nimport { OWNER } from "./team.ts";'));
      writeFileSync(join(dir, "specs/team.ts"), 'export const OWNER = "data-platform";\n');
      const a = await build({ root: dir, skipTypecheck: true });
      writeFileSync(join(dir, "specs/team.ts"), 'export const OWNER = "data-eng";\n');
      const b = await build({ root: dir, skipTypecheck: true });
      expect(a.pipelines[0]!.specHash).toMatch(/^[0-9a-f]{16}$/);
      expect(b.pipelines[0]!.specHash).not.toBe(a.pipelines[0]!.specHash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
