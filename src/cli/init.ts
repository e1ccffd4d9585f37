/**
 * `gen init [dir] [--force] [--dagspec SPEC] [--json]`: a new project that builds at once. It refuses
 * a non-empty folder unless --force, and never overwrites a file, even with --force.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Io } from "./io.ts";
import { bool, parseFlags, str, UsageError, wantsHelp } from "./args.ts";
import { initFiles, packageName } from "../init/files.ts";

/** This dagspec's own package folder: what a new project depends on until dagspec is on a registry. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const INIT_USAGE = `usage: gen init [DIR] [--force] [--dagspec SPEC] [--json]

  Creates a dagspec project in DIR (default: the current folder): package.json depending on dagspec,
  tsconfig.json, specs/ with a working example (its SQL in specs/sql/), .gitignore, a CI workflow
  running \`gen build --check\`, and a README.

  --force     also write into a non-empty folder (existing files are still never overwritten)
  --dagspec   npm dependency spec for dagspec (default: file:<path of this dagspec>)
  --json      print the files written as JSON

  example:
    gen init shop && cd shop && npm install && npx gen build

  exit codes: 0 created, 1 the folder is not empty (or a file exists), 2 usage
`;

export async function runInit(argv: readonly string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(INIT_USAGE);
    return 0;
  }
  let p;
  try {
    p = parseFlags(argv, { force: "boolean", dagspec: "string", json: "boolean" });
    if (p.positional.length > 1) throw new UsageError("gen init takes at most one folder");
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`gen init: error DS2001: ${err.message}\n${INIT_USAGE}`);
    return 2;
  }
  const dir = resolve(io.cwd, p.positional[0] ?? ".");
  const shown = relative(io.cwd, dir) || ".";
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  if (entries.length && !bool(p, "force")) {
    io.stderr(`gen init: error: ${shown} is not empty (${entries.length} entries)\n  hint: choose an empty or new folder, or pass --force to add the files that do not exist yet\n`);
    return 1;
  }
  let dependency = str(p, "dagspec");
  if (!dependency) {
    const rel = relative(dir, PACKAGE_ROOT).split("\\").join("/") || ".";
    dependency = `file:${rel}`;
  }
  const files = initFiles({ name: packageName(basename(dir)), dagspecDependency: dependency });
  const clashes = [...files.keys()].filter((f) => existsSync(join(dir, f)));
  if (clashes.length) {
    io.stderr(`gen init: error: would overwrite ${clashes.join(", ")} in ${shown}; nothing written\n  hint: move those files away, or init into a new folder\n`);
    return 1;
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text, { flag: "wx" });
  }
  if (bool(p, "json")) {
    io.stdout(`${JSON.stringify({ dir: shown, dagspec: dependency, files: [...files.keys()] }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`gen: created ${files.size} files in ${shown}/ (dagspec: ${dependency})\n${[...files.keys()].map((f) => `  ${f}\n`).join("")}next:\n  cd ${shown} && npm install && npx gen build\n`);
  return 0;
}
