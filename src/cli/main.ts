/**
 * The `gen` command line: a thin shell over build(). `run(argv, io)` returns the exit code so tests
 * call it in-process. Exit codes: 0 ok, 1 diagnostics or drift, 2 usage.
 */
import { resolve } from "node:path";
import { build } from "../build/build.ts";
import { checkOutput, ForeignOutputError, writeOutput } from "../build/output.ts";
import { renderJson, renderText, summaryLine } from "../diagnostics/render.ts";
import { hasErrors, sortDiagnostics } from "../diagnostics/diagnostic.ts";
import type { Io } from "./io.ts";
import { silent, step } from "./progress.ts";
import { printable } from "../diagnostics/printable.ts";

const USAGE = `usage: gen build [--check] [--emit-ir] [--against CONN] [--json] [--specs DIR] [--out DIR] [--root DIR]

  gen build            compile specs/*.pipeline.ts into generated/ (nothing is written on error)
  gen build --check    exit 1 with a unified diff if generated/ is not what the specs compile to
  gen build --emit-ir  print the intermediate representation as JSON instead of writing
  gen build --against postgres://user@host:5432/db
                       also compare every declared source table with the live catalogue (a URL or an
                       Airflow conn id from AIRFLOW_CONN_<ID>): a missing table, dropped or retyped
                       column is an error at the spec's line; an added column is a note
  --json               print diagnostics as JSON
  --out DIR            write there instead of generated/; refused if DIR holds files gen did not write
  exit codes: 0 ok, 1 diagnostics or drift, 2 usage

usage: gen init [DIR]                       a new project that builds at once
usage: gen introspect --conn CONN ...       typed source declarations from a live database
usage: gen deploy --to FOLDER|s3://B/P      install the build where Airflow reads it
usage: gen status [--to T] [--airflow URL]  per pipeline: current, stale, missing, orphaned
  (each has --help with an example, and --json)

usage: gen airflow up|down|status|cli ...
  a native local Airflow (api-server, scheduler, dag-processor, triggerer) with the generated DAGs
`;

interface Args {
  command: string;
  check: boolean;
  emitIr: boolean;
  json: boolean;
  specs: string;
  out: string;
  root: string;
  against?: string;
}

function parseArgs(argv: readonly string[], cwd: string): Args | string {
  const args: Args = { command: argv[0] ?? "", check: false, emitIr: false, json: false, specs: "specs", out: "generated", root: cwd };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === "--check") args.check = true;
      else if (a === "--emit-ir") args.emitIr = true;
      else if (a === "--json") args.json = true;
      else if (a === "--specs") args.specs = value();
      else if (a === "--out") args.out = value();
      else if (a === "--root") args.root = resolve(cwd, value());
      else if (a === "--against") args.against = value();
      else return `unknown option ${a}`;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (args.command !== "build") return args.command ? `unknown command ${args.command}` : "missing command";
  if (args.check && args.emitIr) return "--check and --emit-ir cannot be combined";
  return args;
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  // Subcommands and --against are loaded on demand: a plain `gen build` loads neither their process
  // and database tooling nor (through the catalogue check) the TypeScript compiler on this thread.
  if (argv[0] === "airflow") return (await import("./airflow-stack.ts")).runAirflowStack(argv.slice(1), io);
  if (argv[0] === "init") return (await import("./init.ts")).runInit(argv.slice(1), io);
  if (argv[0] === "introspect") return (await import("./introspect.ts")).runIntrospect(argv.slice(1), io);
  if (argv[0] === "deploy") return (await import("./deploy.ts")).runDeploy(argv.slice(1), io);
  if (argv[0] === "status") return (await import("./status.ts")).runStatus(argv.slice(1), io);
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.stdout(USAGE);
    return 0;
  }
  const args = parseArgs(argv, io.cwd);
  if (typeof args === "string") {
    io.stderr(`gen: error DS2001: ${args}\n${USAGE}`);
    return 2;
  }
  const say = args.json ? silent : io.stderr;
  const result = await step(say, "compiling the specs", () => build({ root: args.root, specDir: args.specs }), { eager: true });
  if (args.against && !hasErrors(result.diagnostics)) {
    const against = args.against;
    const drift = await step(say, "comparing the sources with the live catalogue", async () => (await import("../introspect/against.ts")).checkAgainst(args.root, result.pipelines, against));
    result.diagnostics = sortDiagnostics([...result.diagnostics, ...drift]);
  }
  if (result.diagnostics.length) {
    io.stderr(args.json ? renderJson(result.diagnostics) : renderText(result.diagnostics));
    if (!args.json) io.stderr(summaryLine(result.diagnostics));
  }
  if (hasErrors(result.diagnostics)) {
    if (!args.json) io.stderr(`gen: nothing written to ${args.out}/\n`);
    return 1;
  }
  if (args.emitIr) {
    io.stdout(`${JSON.stringify(result.pipelines, null, 2)}\n`);
    return 0;
  }
  const outDir = resolve(args.root, args.out);
  if (args.check) {
    const drift = checkOutput(outDir, args.out, result.files);
    const n = drift.changed.length + drift.missing.length + drift.orphaned.length;
    if (n === 0) {
      io.stdout(`gen: ${args.out}/ is up to date (${result.files.size} files from ${result.pipelines.length} pipeline(s))\n`);
      return 0;
    }
    io.stdout(drift.diff);
    const list = (label: string, xs: string[]) => xs.map((x) => `  ${label} ${args.out}/${x}\n`).join("");
    io.stderr(`gen: ${args.out}/ is out of date: ${drift.changed.length} changed, ${drift.missing.length} missing, ${drift.orphaned.length} orphaned\n${list("changed ", drift.changed)}${list("missing ", drift.missing)}${list("orphaned", drift.orphaned)}run \`gen build\` and commit the result\n`);
    return 1;
  }
  let written: number;
  let removed: string[];
  try {
    ({ written, removed } = writeOutput(outDir, result.files));
  } catch (err) {
    if (!(err instanceof ForeignOutputError)) throw err;
    const shown = err.foreign.slice(0, 5).map((f) => `  ${printable(f)}\n`).join("");
    const more = err.foreign.length > 5 ? `  ... and ${err.foreign.length - 5} more\n` : "";
    io.stderr(
      `gen: error DS2003: refusing to write to ${args.out}/: it holds ${err.foreign.length} file(s) gen did not write, which writing would delete:\n${shown}${more}` +
        `  hint: choose an empty folder or one holding only gen's output (each generated file starts with a "Generated by gen" header)\n`,
    );
    return 1;
  }
  io.stdout(`gen: wrote ${written} files for ${result.pipelines.length} pipeline(s) to ${args.out}/${removed.length ? `, removed ${removed.length} orphaned` : ""}\n`);
  return 0;
}
