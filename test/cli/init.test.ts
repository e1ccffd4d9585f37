/**
 * `gen init`: a new project that builds at once when installed by linking this repository's
 * package (what `npm install` does with the file: dependency init writes; no network), type-checks
 * with the TypeScript compiler, refuses a non-empty folder and never overwrites a file.
 */
import { describe, expect, it, beforeEach } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { run } from "../../src/cli/main.ts";
import { captureIo } from "./io.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("gen init", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), "dagspec-init-"));
    return () => rmSync(tmp, { recursive: true, force: true });
  });

  it("creates a project that builds, checks and type-checks once dagspec is linked in", async () => {
    const c = captureIo(tmp);
    expect(await run(["init", "shop"], c.io), c.out.stderr).toBe(0);
    const shop = join(tmp, "shop");
    for (const f of ["package.json", "tsconfig.json", ".gitignore", ".github/workflows/dagspec.yml", "specs/orders_daily.pipeline.ts", "specs/sql/stg_orders.sql"])
      expect(existsSync(join(shop, f)), f).toBe(true);
    const pkg = JSON.parse(readFileSync(join(shop, "package.json"), "utf8"));
    expect(pkg.dependencies.dagspec).toMatch(/^file:/);
    expect(readFileSync(join(shop, ".github/workflows/dagspec.yml"), "utf8")).toContain("npx gen build --check");

    // What npm does for a file: dependency: a symlink in node_modules.
    mkdirSync(join(shop, "node_modules"));
    symlinkSync(ROOT, join(shop, "node_modules/dagspec"));
    const gen = join(shop, "node_modules/dagspec/bin/gen.js");
    const b = await execa("node", [gen, "build"], { cwd: shop, reject: false });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(existsSync(join(shop, "generated/dags/orders_daily.py"))).toBe(true);
    expect(readFileSync(join(shop, "generated/dbt/orders_daily/models/staging/stg_orders.sql"), "utf8")).toContain("{{ source('app', 'orders') }}");
    const check = await execa("node", [gen, "build", "--check"], { cwd: shop, reject: false });
    expect(check.exitCode, check.stderr).toBe(0);
    // The editor's view: the project's own tsconfig resolves "dagspec" through node_modules.
    const tsc = await execa("node", [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", shop], { reject: false });
    expect(tsc.exitCode, tsc.stdout).toBe(0);
  });

  it("refuses a non-empty folder, and with --force still never overwrites", async () => {
    writeFileSync(join(tmp, "package.json"), "{}\n");
    const a = captureIo(tmp);
    expect(await run(["init"], a.io)).toBe(1);
    expect(a.out.stderr).toMatch(/is not empty.*\n  hint: .*--force/);
    const b = captureIo(tmp);
    expect(await run(["init", "--force"], b.io)).toBe(1);
    expect(b.out.stderr).toContain("would overwrite package.json");
    expect(readFileSync(join(tmp, "package.json"), "utf8")).toBe("{}\n");
    expect(existsSync(join(tmp, "specs"))).toBe(false);
  });

  it("--json lists the files, --help shows an example, a bad flag is a usage error", async () => {
    const a = captureIo(tmp);
    expect(await run(["init", "p", "--json", "--dagspec", "^0.1.0"], a.io)).toBe(0);
    const j = JSON.parse(a.out.stdout);
    expect(j.dagspec).toBe("^0.1.0");
    expect(j.files).toContain("specs/orders_daily.pipeline.ts");
    const h = captureIo(tmp);
    expect(await run(["init", "--help"], h.io)).toBe(0);
    expect(h.out.stdout).toMatch(/example:\n\s+gen init shop/);
    const u = captureIo(tmp);
    expect(await run(["init", "--bogus"], u.io)).toBe(2);
  });
});
