import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Spec files are `<dir>/*.pipeline.ts`, sorted so every run sees them in the same order. */
export function discoverSpecFiles(root: string, specDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, specDir));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".pipeline.ts"))
    .sort()
    .map((n) => `${specDir}/${n}`);
}
