/**
 * Paths the user controls: `--out` never deletes what gen did not write, and a spec file name never
 * reaches a generated header unless it is plain (a newline in it would put a live line into files
 * that Python and dbt's Jinja read).
 */
import { describe, expect, it, beforeEach } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";
import { build } from "../../src/build/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SPEC = join(ROOT, "test/cases/escaping/specs/tricky.pipeline.ts");

function io(cwd: string) {
  const out = { stdout: "", stderr: "" };
  return { out, io: { cwd, stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe("gen build --out", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "dagspec-out-"));
    mkdirSync(join(root, "specs"));
    cpSync(SPEC, join(root, "specs/tricky.pipeline.ts"));
    return () => rmSync(root, { recursive: true, force: true });
  });

  it("refuses the project root and the specs folder, deleting nothing", async () => {
    writeFileSync(join(root, "README.md"), "mine\n");
    for (const out of [".", "specs", root]) {
      const { out: o, io: i } = io(root);
      expect(await run(["build", "--out", out], i)).toBe(1);
      expect(o.stderr).toMatch(/error DS2003: refusing to write to .*: it holds \d+ file\(s\) gen did not write/);
    }
    expect(readFileSync(join(root, "README.md"), "utf8")).toBe("mine\n");
    expect(existsSync(join(root, "specs/tricky.pipeline.ts"))).toBe(true);
    expect(readdirSync(root).sort()).toEqual(["README.md", "specs"]);
  });

  it("refuses a folder where one hand-written file sits among generated ones", async () => {
    expect(await run(["build", "--out", "gen_out"], io(root).io)).toBe(0);
    writeFileSync(join(root, "gen_out/dags/notes.py"), "x = 1\n");
    const { out, io: i } = io(root);
    expect(await run(["build", "--out", "gen_out"], i)).toBe(1);
    expect(out.stderr).toContain("dags/notes.py");
    expect(readFileSync(join(root, "gen_out/dags/notes.py"), "utf8")).toBe("x = 1\n");
  });

  it("writes a new or empty folder, rewrites its own output, and leaves nothing beside it", async () => {
    mkdirSync(join(root, "empty"));
    expect(await run(["build", "--out", "empty"], io(root).io)).toBe(0);
    expect(await run(["build", "--out", "empty"], io(root).io)).toBe(0);
    expect(await run(["build", "--out", "fresh/nested"], io(root).io)).toBe(0);
    expect(existsSync(join(root, "empty/dags/tricky_text.py"))).toBe(true);
    expect(readdirSync(root).sort()).toEqual(["empty", "fresh", "specs"]);
    expect(readdirSync(join(root, "fresh"))).toEqual(["nested"]);
  });
});

describe("spec file names", () => {
  it("a name that could not sit in a header comment is a diagnostic, and nothing is built", async () => {
    const root = mkdtempSync(join(tmpdir(), "dagspec-name-"));
    try {
      mkdirSync(join(root, "specs"));
      const text = readFileSync(SPEC, "utf8");
      writeFileSync(join(root, "specs/ok.pipeline.ts"), text);
      writeFileSync(join(root, "specs/x\n{{ env_var('DAGSPEC_PG_PASSWORD') }}.pipeline.ts"), text.replace('id: "tricky_text"', 'id: "other"'));
      const result = await build({ root, specDir: "specs", skipTypecheck: true });
      expect(result.files.size).toBe(0);
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ code: "DS1005", file: "specs/x\\n{{ env_var('DAGSPEC_PG_PASSWORD') }}.pipeline.ts", line: 1, col: 1, hint: expect.any(String) }),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
