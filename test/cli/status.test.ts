/**
 * `gen status --to`: every per-pipeline state against a deployed folder (current, stale after a spec
 * edit, missing for a new spec, orphaned for a deleted one), exit codes, and the header parsing the
 * --airflow reading relies on. The --airflow path against a real api-server is in
 * test/python/live/test_status_live.py.
 */
import { describe, expect, it, beforeEach } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";
import { parseSpecHash, splitAirflowUrl } from "../../src/status/airflow-api.ts";
import type { AirflowApi } from "../../src/status/airflow-api.ts";
import { airflowStatus, errorLine } from "../../src/status/airflow-status.ts";
import type { DeployManifest } from "../../src/deploy/manifest.ts";
import { captureIo } from "./io.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("gen status --to <folder>", () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), "dagspec-status-"));
    cpSync(join(ROOT, "specs"), join(project, "specs"), { recursive: true });
    cpSync(join(ROOT, "test/cases/snapshot_only/specs/inventory.pipeline.ts"), join(project, "specs/inventory.pipeline.ts"));
    return () => rmSync(project, { recursive: true, force: true });
  });

  it("reports nothing deployed, then current, then stale, missing and orphaned", async () => {
    const none = captureIo(project);
    expect(await run(["status", "--to", "af", "--json"], none.io)).toBe(1);
    const n = JSON.parse(none.out.stdout);
    expect(n.deployment.releaseId).toBeNull();
    expect(n.deployment.pipelines.map((x: { state: string }) => x.state)).toEqual(["missing", "missing"]);

    expect(await run(["deploy", "--to", "af"], captureIo(project).io)).toBe(0);
    const ok = captureIo(project);
    expect(await run(["status", "--to", "af"], ok.io), ok.out.stdout + ok.out.stderr).toBe(0);
    expect(ok.out.stdout).toMatch(/daily_metrics_pipeline\s+current\s+([0-9a-f]{16}) \/ \1/);
    expect(ok.out.stdout).toMatch(/inventory_snapshot\s+current/);
    expect(ok.out.stdout).toMatch(/\(runtime\)\s+current/);

    const seed = join(project, "specs/daily_metrics.pipeline.ts");
    writeFileSync(seed, readFileSync(seed, "utf8").replace('owner: "data-platform"', 'owner: "data-eng"'));
    rmSync(join(project, "specs/inventory.pipeline.ts"));
    cpSync(join(ROOT, "test/cases/postgres_s3/specs/payments.pipeline.ts"), join(project, "specs/payments.pipeline.ts"));
    const drift = captureIo(project);
    expect(await run(["status", "--to", "af", "--json"], drift.io)).toBe(1);
    const d = JSON.parse(drift.out.stdout);
    const states = Object.fromEntries(d.deployment.pipelines.map((x: { id: string; state: string }) => [x.id, x.state]));
    expect(states).toEqual({ daily_metrics_pipeline: "stale", inventory_snapshot: "orphaned", payments_daily: "missing" });
    const stale = d.deployment.pipelines.find((x: { id: string }) => x.id === "daily_metrics_pipeline");
    expect(stale.repoSpecHash).not.toBe(stale.deployedSpecHash);
    expect(stale.reason).toContain("run gen deploy");

    const text = captureIo(project);
    expect(await run(["status", "--to", "af"], text.io)).toBe(1);
    expect(text.out.stdout).toMatch(/inventory_snapshot\s+orphaned\s+- \/ [0-9a-f]{16}\s+deployed from specs\/inventory\.pipeline\.ts/);
  });

  it("needs a target or an Airflow, and says so", async () => {
    const u = captureIo(project);
    expect(await run(["status"], u.io)).toBe(2);
    expect(u.out.stderr).toContain("give --to");
    const h = captureIo(project);
    expect(await run(["status", "--help"], h.io)).toBe(0);
    expect(h.out.stdout).toMatch(/example:\n\s+gen status --to/);
    const down = captureIo(project);
    expect(await run(["status", "--airflow", "http://127.0.0.1:1"], down.io)).toBe(3);
    expect(down.out.stderr).toContain("cannot reach Airflow at http://127.0.0.1:1");
  });
});

describe("reading what Airflow parsed", () => {
  it("finds the spec hash in a generated DAG's header, and none in another DAG", () => {
    const dag = readFileSync(join(ROOT, "generated/dags/daily_metrics_pipeline.py"), "utf8");
    expect(parseSpecHash(dag)).toMatch(/^[0-9a-f]{16}$/);
    expect(dag).toContain(`spec_hash": "${parseSpecHash(dag)}"`);
    expect(parseSpecHash("# spec-hash: 0123456789abcdef\nfrom airflow import DAG\n")).toBeNull();
  });

  it("keeps credentials out of the printed URL", () => {
    const { base, auth } = splitAirflowUrl("http://admin:s%40cret@127.0.0.1:8080/", {});
    expect(base).toBe("http://127.0.0.1:8080");
    expect(auth).toEqual({ token: undefined, username: "admin", password: "s@cret" });
  });

  it("an import error is summed up by the traceback's last line", () => {
    expect(errorLine('Traceback (most recent call last):\n  File "x.py", line 1\nModuleNotFoundError: No module named \'dagspec_runtime\'\n')).toBe(
      "ModuleNotFoundError: No module named 'dagspec_runtime'",
    );
  });

  it("reports a pipeline's backfill DAG with its pipeline, not as an orphan", async () => {
    // What the api-server lists for two generated files (each a pipeline and its backfill DAG), one
    // of them no longer in the repo, and a DAG that is no dagspec pipeline's backfill.
    const parsed = ["kept", "kept__backfill", "gone", "gone__backfill", "x__backfill"];
    const api = {
      base: "http://airflow",
      dags: async () => parsed.map((dagId) => ({ dagId, isPaused: false, fileloc: `/dags/${dagId.replace(/__backfill$/, "")}.py`, relativeFileloc: null })),
      importErrors: async () => [],
      specHash: async (dagId: string) => (dagId.startsWith("x") ? null : "0123456789abcdef"),
    } as unknown as AirflowApi;
    const repo = { pipelines: { kept: { specHash: "0123456789abcdef" } } } as unknown as DeployManifest;
    const { pipelines } = await airflowStatus(api, repo);
    expect(pipelines.map((p) => [p.id, p.state])).toEqual([
      ["gone", "orphaned"],
      ["kept", "current"],
    ]);
  });
});
