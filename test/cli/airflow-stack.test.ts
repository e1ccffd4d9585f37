/** `gen airflow ...` in-process: usage, and that it hands over to the local environment tool (without starting a stack). */
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function io() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { cwd: ROOT, stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe("gen airflow", () => {
  const saved = process.env.DAGSPEC_STACK_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.DAGSPEC_STACK_HOME;
    else process.env.DAGSPEC_STACK_HOME = saved;
  });

  it("without a command prints usage and exits 2", async () => {
    const { out, io: i } = io();
    expect(await run(["airflow"], i)).toBe(2);
    expect(out.stdout).toMatch(/gen airflow up\|down\|status\|cli/);
  });

  it("an unknown command exits 2 with DS2001", async () => {
    const { out, io: i } = io();
    expect(await run(["airflow", "start"], i)).toBe(2);
    expect(out.stderr).toMatch(/DS2001: unknown airflow command start/);
    expect(await run(["airflow", "up", "--now"], i)).toBe(2);
  });

  it("backfill --print: the daily DAG's backfill as before, or with --one-pass one run of <id>__backfill", async () => {
    const days = ["airflow", "backfill", "daily_metrics_pipeline", "--from", "2026-10-27", "--to", "2026-11-25"];
    const daily = io();
    expect(await run([...days, "--print"], daily.io)).toBe(0);
    expect(daily.out.stdout).toBe(
      "report days 2026-10-27..2026-11-25 -> airflow backfill create --dag-id daily_metrics_pipeline " +
        "--from-date 2026-10-28T06:00:00-04:00 --to-date 2026-11-26T06:00:00-05:00 --max-active-runs 4\n",
    );
    const onePass = io();
    expect(await run([...days, "--one-pass", "--print"], onePass.io)).toBe(0);
    expect(onePass.out.stdout).toBe(
      "report days 2026-10-27..2026-11-25 -> airflow dags trigger daily_metrics_pipeline__backfill " +
        `--conf '{"first_day":"2026-10-27","last_day":"2026-11-25"}'\n`,
    );
    const both = io();
    expect(await run([...days, "--one-pass", "--reprocess"], both.io)).toBe(2);
    expect(both.out.stderr).toMatch(/DS2001: --reprocess is for a backfill of the daily DAG; --one-pass reprocesses every day/);
    const usage = io();
    expect(await run(["airflow", "backfill", "daily_metrics_pipeline", "--one-pass"], usage.io)).toBe(2);
    expect(usage.out.stderr).toContain("[--reprocess | --one-pass] [--print]");
  });

  it("passes the tool's output and exit code through", async () => {
    const home = mkdtempSync(join(tmpdir(), "dagspec-stack-"));
    process.env.DAGSPEC_STACK_HOME = join(home, "none");
    try {
      const { out, io: i } = io();
      expect(await run(["airflow", "status"], i)).toBe(1);
      expect(out.stderr).toMatch(/stack: no stack at .*none \(run: npx gen airflow up\)/);
      const down = io();
      expect(await run(["airflow", "down"], down.io)).toBe(0);
      expect(down.out.stdout).toMatch(/nothing runs at/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
