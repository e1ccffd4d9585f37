/**
 * Output bytes do not depend on the machine: the CLI builds every clean golden case's specs under
 * two locales and two timezones (in child processes, where LC_ALL and TZ take effect) and the
 * trees must be identical. Danish collation sorts `aa` after `z` and ICU puts `t_1` before `t1`;
 * a timezone far from UTC would shift any date computed in local time.
 */
import { describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { listFiles } from "../../src/build/output.ts";
import { REPO } from "./corpus.ts";

const ENVS = [
  { LC_ALL: "C", LANG: "C", TZ: "UTC" },
  { LC_ALL: "da_DK.UTF-8", LANG: "da_DK.UTF-8", TZ: "Pacific/Kiritimati" },
] as const;

function tree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((p) => [p, readFileSync(join(dir, p), "utf8")]));
}

describe("locale and timezone independence", () => {
  it("builds byte-identical trees under LC_ALL=C/TZ=UTC and LC_ALL=da_DK.UTF-8/TZ=Pacific/Kiritimati", () => {
    const root = mkdtempSync(join(tmpdir(), "dagspec-locale-"));
    try {
      mkdirSync(join(root, "specs"));
      const cases = join(REPO, "test/cases");
      for (const c of readdirSync(cases).sort()) {
        if (existsSync(join(cases, c, "expected/dags"))) cpSync(join(cases, c, "specs"), join(root, "specs"), { recursive: true, force: false, errorOnExist: true });
      }
      cpSync(join(REPO, "specs"), join(root, "specs"), { recursive: true, force: false, errorOnExist: true });
      const trees = ENVS.map((env, i) => {
        execFileSync(process.execPath, [join(REPO, "bin/gen.js"), "build", "--out", `out${i}`], { cwd: root, env: { ...process.env, ...env }, stdio: "pipe" });
        return tree(join(root, `out${i}`));
      });
      expect(trees[0]!.size).toBeGreaterThan(20);
      expect([...trees[1]!.keys()]).toEqual([...trees[0]!.keys()]);
      for (const [path, text] of trees[0]!) expect(trees[1]!.get(path), path).toBe(text);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
