#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, loaded through jiti so no build step stands
// between an edit and `gen build`. jiti's file cache holds the transpiled sources keyed by a hash
// of their content (an edit is always seen) and saves re-transpiling the compiler on every run.
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: true });
if (process.argv[2] === "build") {
  // The type check runs on a worker thread: start it, and its loading of TypeScript, now.
  (await jiti.import("../src/load/typecheck-async.ts")).prewarmTypecheck();
}
const { run } = await jiti.import("../src/cli/main.ts");
const code = await run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
});
process.exitCode = code;
