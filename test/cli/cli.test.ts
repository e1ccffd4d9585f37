/** The `gen` CLI in-process: exit codes, nothing written on error, drift detection, IR output. */
import { describe, expect, it, beforeEach } from "vitest";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";
import { listFiles } from "../../src/build/output.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function io(cwd: string) {
  const out = { stdout: "", stderr: "" };
  return { out, io: { cwd, stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

function snapshot(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((p) => [p, readFileSync(join(dir, p), "utf8")]));
}

describe("gen build", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "dagspec-cli-"));
    cpSync(join(ROOT, "specs"), join(root, "specs"), { recursive: true });
    cpSync(join(ROOT, "generated"), join(root, "generated"), { recursive: true, filter: (src) => !/\/(target|logs)(\/|$)/.test(src) });
    return () => rmSync(root, { recursive: true, force: true });
  });

  it("the repository's committed generated/ is up to date", async () => {
    const { out, io: i } = io(ROOT);
    expect(await run(["build", "--check"], i), out.stderr + out.stdout).toBe(0);
    expect(out.stdout).toMatch(/is up to date/);
  });

  it("an unknown model exits 1 with file:line:col and leaves generated/ unchanged", async () => {
    const before = snapshot(join(root, "generated"));
    const spec = join(root, "specs/daily_metrics.pipeline.ts");
    const text = readFileSync(spec, "utf8");
    writeFileSync(spec, text.replace('q.ref("stg_orders")}\n          where status', '"{{ ref(\'stg_order\') }}"}\n          where status'));
    const { out, io: i } = io(root);
    expect(await run(["build"], i)).toBe(1);
    expect(out.stderr).toMatch(/specs\/daily_metrics\.pipeline\.ts:\d+:\d+: error DS1201: model fct_daily_metrics: ref\('stg_order'\)/);
    expect(out.stderr).toMatch(/nothing written to generated\//);
    expect(snapshot(join(root, "generated"))).toEqual(before);
  });

  it("--check reports changed, missing and orphaned files with a diff", async () => {
    const gen = join(root, "generated");
    const dag = join(gen, "dags/daily_metrics_pipeline.py");
    writeFileSync(dag, readFileSync(dag, "utf8").replace("poke_interval=300", "poke_interval=30"));
    rmSync(join(gen, "dbt/daily_metrics_pipeline/models/schema.yml"));
    writeFileSync(join(gen, "dags/stale.py"), "# left behind\n");
    const { out, io: i } = io(root);
    expect(await run(["build", "--check"], i)).toBe(1);
    expect(out.stdout).toContain("-        poke_interval=30,\n+        poke_interval=300,");
    expect(out.stderr).toMatch(/1 changed, 1 missing, 1 orphaned/);
    expect(out.stderr).toContain("orphaned generated/dags/stale.py");
    const w = io(root);
    expect(await run(["build"], w.io)).toBe(0);
    expect(existsSync(join(gen, "dags/stale.py"))).toBe(false);
    expect(await run(["build", "--check"], io(root).io)).toBe(0);
  });

  it("--emit-ir prints the IR as JSON", async () => {
    const { out, io: i } = io(root);
    expect(await run(["build", "--emit-ir"], i)).toBe(0);
    const ir = JSON.parse(out.stdout);
    expect(ir[0].id).toBe("daily_metrics_pipeline");
    expect(ir[0].tasks.map((t: { id: string }) => t.id)).toEqual(["wait_for_source", "extract", "dbt_build", "publish_tables", "publish_report"]);
    expect(ir[0].sla.breachAfterMinutes).toBe(120);
  });

  it("--json prints diagnostics as data", async () => {
    writeFileSync(join(root, "specs/daily_metrics.pipeline.ts"), readFileSync(join(root, "specs/daily_metrics.pipeline.ts"), "utf8").replace('cron: "0 6 * * *"', 'cron: "0 6 * *"'));
    const { out, io: i } = io(root);
    expect(await run(["build", "--json"], i)).toBe(1);
    const diags = JSON.parse(out.stderr);
    expect(diags).toEqual([expect.objectContaining({ code: "DS1213", file: "specs/daily_metrics.pipeline.ts", path: "schedule.cron", line: expect.any(Number) })]);
  });

  it("usage errors exit 2", async () => {
    expect(await run(["frobnicate"], io(root).io)).toBe(2);
    expect(await run(["build", "--nope"], io(root).io)).toBe(2);
    expect(await run(["build", "--check", "--emit-ir"], io(root).io)).toBe(2);
  });
});
