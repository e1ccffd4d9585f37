/**
 * `gen introspect --conn <url|conn id> [--schema s] [--tables a,b] [--out file] [--json]`: writes the
 * typed source declarations of one schema as a TypeScript module specs import.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Io } from "./io.ts";
import { bool, parseFlags, str, UsageError, wantsHelp } from "./args.ts";
import { step } from "./progress.ts";
import { ConnError, resolveConn } from "../introspect/conn.ts";
import { CatalogReadError, readSchemas } from "../introspect/read.ts";
import { introspect } from "../introspect/model.ts";
import { renderModule } from "../introspect/render-module.ts";
import { IDENT } from "../spec/schema.ts";

export const INTROSPECT_USAGE = `usage: gen introspect --conn <postgres url | Airflow conn id> [--schema NAME] [--tables a,b] [--out FILE] [--json]

  Reads the live PostgreSQL catalogue and writes typed source declarations (dagspec column types,
  primary keys, nullability, comments, incremental cursor candidates) as a TypeScript module that
  specs import. Columns dagspec cannot extract are listed with the reason. Re-running rewrites the
  module byte for byte the same unless the source changed.

  --conn     postgres://user@host:5432/db, or an Airflow connection id read from AIRFLOW_CONN_<ID>
  --schema   schema to read (default: public)
  --tables   only these tables, comma-separated (default: every table of the schema)
  --out      module to write (default: specs/sources/<schema>.ts)
  --json     print what was read as JSON instead of a summary

  example:
    gen introspect --conn postgres://postgres@127.0.0.1:5432/demo_shop --schema app --tables orders,users

  exit codes: 0 written (or already current), 1 nothing to declare (unknown schema or table),
              2 usage, 3 the database could not be read
`;

export async function runIntrospect(argv: readonly string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(INTROSPECT_USAGE);
    return 0;
  }
  let p;
  try {
    p = parseFlags(argv, { conn: "string", schema: "string", tables: "string", out: "string", json: "boolean", root: "string" });
    if (p.positional.length) throw new UsageError(`unexpected argument ${p.positional[0]}`);
    if (!str(p, "conn")) throw new UsageError("--conn is required");
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`gen introspect: error DS2001: ${err.message}\n${INTROSPECT_USAGE}`);
    return 2;
  }
  const schema = str(p, "schema") ?? "public";
  const only = str(p, "tables")?.split(",").map((t) => t.trim()).filter(Boolean);
  if (!IDENT.test(schema)) {
    io.stderr(`gen introspect: error DS2001: --schema '${schema}' is not a dagspec name (lowercase letters, digits, underscores)\n`);
    return 2;
  }
  const root = resolve(io.cwd, str(p, "root") ?? ".");
  const out = resolve(root, str(p, "out") ?? `specs/sources/${schema}.ts`);
  let catalog;
  try {
    const conn = resolveConn(str(p, "conn")!);
    catalog = (await step(io.stderr, `reading the catalogue of ${conn.label}, schema ${schema}`, () => readSchemas(conn, [schema]))).get(schema)!;
  } catch (err) {
    if (err instanceof ConnError || err instanceof CatalogReadError) {
      io.stderr(`gen introspect: error: ${err.message}\n  hint: check the URL or AIRFLOW_CONN_<ID>, and that the server accepts connections\n`);
      return 3;
    }
    throw err;
  }
  const unknown = (only ?? []).filter((t) => !catalog.some((c) => c.name === t));
  if (!catalog.length || unknown.length) {
    io.stderr(
      unknown.length
        ? `gen introspect: error: no table ${unknown.join(", ")} in schema ${schema}\n  hint: --tables takes names of tables in --schema, comma-separated\n`
        : `gen introspect: error: schema ${schema} has no tables (or does not exist)\n  hint: pass --schema with the schema that holds your tables\n`,
    );
    return 1;
  }
  const result = introspect(schema, only ? catalog.filter((t) => only.includes(t.name)) : catalog);
  const rel = relative(root, out).split("\\").join("/");
  const command = ["gen introspect", `--schema ${schema}`, ...(only ? [`--tables ${only.join(",")}`] : [])].join(" ");
  const text = renderModule(result, command);
  const unchanged = existsSync(out) && readFileSync(out, "utf8") === text;
  if (!unchanged) {
    mkdirSync(dirname(out), { recursive: true });
    // Written beside and renamed: an editor or a concurrent build never reads half a module.
    writeFileSync(`${out}.tmp-${process.pid}`, text);
    renameSync(`${out}.tmp-${process.pid}`, out);
  }
  if (bool(p, "json")) {
    io.stdout(`${JSON.stringify({ out: rel, changed: !unchanged, ...result }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`gen: ${unchanged ? "unchanged" : "wrote"} ${rel}: ${result.tables.length} table(s) of schema ${schema}\n`);
  for (const t of result.tables) {
    const cursors = t.cursorCandidates.map((c) => `${c.column}${c.indexed ? " (indexed)" : ""}`).join(", ") || "none";
    io.stdout(`  ${t.name}: ${t.columns.length} column(s), primary key ${t.primaryKey.join(", ") || "NONE"}, cursor candidates: ${cursors}\n`);
    for (const pr of t.problems) io.stdout(`    attention: ${pr}\n`);
    for (const n of t.notExtractable) io.stdout(`    not extractable: ${n.column} (${n.pgType}): ${n.reason}\n`);
  }
  for (const s of result.skipped) io.stdout(`  skipped ${s.name}: ${s.reason}\n`);
  const fromSpecs = relative(join(root, "specs"), out).split("\\").join("/");
  io.stdout(`  next: import { tables } from "${fromSpecs.startsWith(".") ? fromSpecs : `./${fromSpecs}`}" in a spec and spread a table into source.tables\n`);
  return 0;
}
