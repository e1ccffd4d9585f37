/**
 * Writing and checking generated/. Writing replaces the folder's managed content as a whole: files
 * no spec produces any more are removed, and nothing is written when the build has errors.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { createTwoFilesPatch } from "diff";

/** Files under `dir`, relative POSIX paths, skipping dbt's own run artefacts. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p).split("\\").join("/");
      if (/^dbt\/[^/]+\/(target|logs|dbt_packages)(\/|$)/.test(rel) || e.name === "__pycache__" || e.name === ".user.yml") continue;
      if (e.isDirectory()) walk(p);
      else out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Writes into a sibling temp folder first, then swaps folders, so a crash mid-write never leaves a
 * half-updated generated/. dbt run artefacts (target/, logs/) are carried over.
 */
export function writeOutput(outDir: string, files: ReadonlyMap<string, string>): { written: number; removed: string[] } {
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const [path, text] of files) {
    mkdirSync(dirname(join(tmp, path)), { recursive: true });
    writeFileSync(join(tmp, path), text);
  }
  const removed = listFiles(outDir).filter((p) => !files.has(p));
  if (existsSync(join(outDir, "dbt"))) {
    for (const e of readdirSync(join(outDir, "dbt"), { withFileTypes: true }).filter((e) => e.isDirectory())) {
      for (const keep of ["target", "logs"]) {
        const from = join(outDir, "dbt", e.name, keep);
        if (existsSync(from) && existsSync(join(tmp, "dbt", e.name))) renameSync(from, join(tmp, "dbt", e.name, keep));
      }
    }
  }
  const old = `${outDir}.old-${process.pid}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(tmp, outDir);
  rmSync(old, { recursive: true, force: true });
  return { written: files.size, removed };
}

export interface Drift {
  changed: string[];
  missing: string[];
  orphaned: string[];
  diff: string;
}

export function checkOutput(outDir: string, outLabel: string, files: ReadonlyMap<string, string>): Drift {
  const onDisk = new Set(listFiles(outDir));
  const drift: Drift = { changed: [], missing: [], orphaned: [], diff: "" };
  const parts: string[] = [];
  for (const [path, want] of files) {
    if (!onDisk.has(path)) {
      drift.missing.push(path);
      parts.push(createTwoFilesPatch("/dev/null", `${outLabel}/${path}`, "", want));
      continue;
    }
    const have = readFileSync(join(outDir, path), "utf8");
    if (have !== want) {
      drift.changed.push(path);
      parts.push(createTwoFilesPatch(`${outLabel}/${path}`, `${outLabel}/${path}`, have, want));
    }
  }
  for (const path of onDisk) {
    if (files.has(path)) continue;
    drift.orphaned.push(path);
    parts.push(createTwoFilesPatch(`${outLabel}/${path}`, "/dev/null", readFileSync(join(outDir, path), "utf8"), ""));
  }
  drift.diff = parts.join("");
  return drift;
}
