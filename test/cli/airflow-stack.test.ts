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
