/**
 * `gen introspect` and `gen build --against` on a scratch copy of the demo_shop source schema:
 * declarations from the live catalogue (types, keys, comments, cursor candidates, what cannot be
 * extracted), deterministic rewrites, a spec on the declarations building clean against the
 * source, and a retyped `amount` failing at the line that declares it.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";
import { captureIo } from "./io.ts";
import { createScratchSource, dropDatabase, pgAvailable, sql } from "./scratch-source.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const noPg = await pgAvailable();
if (noPg) console.warn(`SKIPPED introspection tests: ${noPg}`);

/** 1-based line of the first line matching `re` in `file`. */
function lineOf(file: string, re: RegExp): number {
  const i = readFileSync(file, "utf8").split("\n").findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`${re} not in ${file}`);
  return i + 1;
}

describe.skipIf(noPg)("gen introspect and gen build --against", () => {
  let url: string;
  let tmp: string;
  beforeAll(async () => {
    url = await createScratchSource("introspect");
    await sql(url, `
      COMMENT ON TABLE app.orders IS 'Orders as placed
        in the shop.';
      COMMENT ON COLUMN app.orders.amount IS 'Order value in USD.';
      CREATE TABLE app.refunds (id bigint, order_id bigint, payload json, reasons text[], refunded_on date);
      CREATE TABLE app."Audit" (id int)`);
    tmp = mkdtempSync(join(tmpdir(), "dagspec-introspect-"));
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await dropDatabase(url);
  });

  it("writes typed declarations, lists what it cannot extract, and rewrites byte for byte", async () => {
    const a = captureIo(tmp);
    expect(await run(["introspect", "--conn", url, "--schema", "app"], a.io), a.out.stderr).toBe(0);
    const file = join(tmp, "specs/sources/app.ts");
    const text = readFileSync(file, "utf8");
    expect(text).toContain('import type { SourceTableSpec } from "dagspec";');
    expect(text).toMatch(/  \/\*\* app\.orders: Orders as placed in the shop\. \*\/\n  orders: \{/);
    expect(text).toContain('      /** Order value in USD. (numeric(12,2), nullable) */\n      amount: "numeric(12,2)",');
    expect(text).toContain('      /** (bigint, not null, primary key) */\n      id: "bigint",');
    expect(text).toContain("      { column: \"created_at\", type: \"timestamptz\", indexed: true },\n      { column: \"updated_at\", type: \"timestamptz\", indexed: false },");
    expect(text).toContain("// ATTENTION: no primary key");
    expect(text).toContain('{ column: "payload", type: "json", reason: "json is not extracted (jsonb is)');
    expect(text).toContain('{ column: "reasons", type: "text[]", reason: "arrays have no column type');
    expect(text).toContain("// skipped table Audit: the table name needs quoting");
    expect(a.out.stdout).toContain("not extractable: payload (json)");
    const mtime = statSync(file).mtimeMs;

    const b = captureIo(tmp);
    expect(await run(["introspect", "--conn", url, "--schema", "app"], b.io)).toBe(0);
    expect(b.out.stdout).toMatch(/^gen: unchanged specs\/sources\/app\.ts/);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(statSync(file).mtimeMs).toBe(mtime);

    const j = captureIo(tmp);
    expect(await run(["introspect", "--conn", url, "--schema", "app", "--tables", "orders", "--out", "o.ts", "--json"], j.io)).toBe(0);
    const parsed = JSON.parse(j.out.stdout);
    expect(parsed.tables.map((t: { name: string }) => t.name)).toEqual(["orders"]);
    expect(parsed.tables[0].primaryKey).toEqual(["id"]);
  });

  it("reads an Airflow-style connection id from AIRFLOW_CONN_<ID>, and says what to do when it is missing", async () => {
    process.env.AIRFLOW_CONN_SCRATCH_SRC = url;
    try {
      const a = captureIo(tmp);
      expect(await run(["introspect", "--conn", "scratch_src", "--schema", "app", "--tables", "users", "--out", "u.ts"], a.io), a.out.stderr).toBe(0);
      expect(readFileSync(join(tmp, "u.ts"), "utf8")).toContain("  users: {");
    } finally {
      delete process.env.AIRFLOW_CONN_SCRATCH_SRC;
    }
    const m = captureIo(tmp);
    expect(await run(["introspect", "--conn", "scratch_src"], m.io)).toBe(3);
    expect(m.out.stderr).toContain("set AIRFLOW_CONN_SCRATCH_SRC");
    const n = captureIo(tmp);
    expect(await run(["introspect", "--conn", url, "--schema", "nope"], n.io)).toBe(1);
    expect(n.out.stderr).toMatch(/schema nope has no tables.*\n  hint:/);
  });

  it("a spec on the introspected declarations builds clean --against the source, and fails at amount once it is retyped", async () => {
    const proj = join(tmp, "shop");
    const i = captureIo(tmp);
    expect(await run(["init", "shop"], i.io)).toBe(0);
    const s = captureIo(proj);
    expect(await run(["introspect", "--conn", url, "--schema", "app", "--tables", "orders,users"], s.io)).toBe(0);
    const specFile = join(proj, "specs/orders_daily.pipeline.ts");
    const spec = readFileSync(specFile, "utf8")
      .replace('import { definePipeline } from "dagspec";', 'import { definePipeline } from "dagspec";\nimport { tables } from "./sources/app.ts";')
      .replace(/orders: \{\n\s+schema: "app",[\s\S]*?extract: \{ mode: "incremental", cursor: "created_at" \},\n\s+\},/, 'orders: { ...tables.orders, extract: { mode: "incremental", cursor: "created_at" } },');
    expect(spec).toContain("...tables.orders");
    writeFileSync(specFile, spec);

    const clean = captureIo(proj);
    expect(await run(["build", "--against", url], clean.io), clean.out.stderr).toBe(0);
    expect(clean.out.stderr).not.toMatch(/error|note/);

    await sql(url, "ALTER TABLE app.orders ALTER COLUMN amount TYPE text");
    try {
      const bad = captureIo(proj);
      expect(await run(["build", "--against", url], bad.io)).toBe(1);
      const line = lineOf(join(proj, "specs/sources/app.ts"), /^\s+amount: /);
      expect(bad.out.stderr).toContain(`specs/sources/app.ts:${line}:7: error DS1303: column orders.amount is declared numeric(12,2) but is text in the live database`);
      expect(bad.out.stderr).toContain("nothing written to generated/");

      // The repository's own spec declares its columns inline: the error is at its amount line.
      const seed = join(tmp, "seed");
      cpSync(join(ROOT, "specs"), join(seed, "specs"), { recursive: true });
      await sql(url, "ALTER TABLE app.events ADD COLUMN session_id uuid; ALTER TABLE app.users DROP COLUMN country");
      const j = captureIo(seed);
      expect(await run(["build", "--against", url, "--json"], j.io)).toBe(1);
      const diags = JSON.parse(j.out.stderr) as { code: string; file: string; line: number; severity: string; path: string }[];
      const seedSpec = join(seed, "specs/daily_metrics.pipeline.ts");
      expect(diags.find((d) => d.code === "DS1303")).toMatchObject({ file: "specs/daily_metrics.pipeline.ts", line: lineOf(seedSpec, /^\s+amount: "numeric/), severity: "error" });
      expect(diags.find((d) => d.code === "DS1302")).toMatchObject({ path: "source.tables.users.columns.country", severity: "error" });
      expect(diags.find((d) => d.code === "DS1304")).toMatchObject({ path: "source.tables.events.columns", severity: "note" });
    } finally {
      await sql(url, "ALTER TABLE app.orders ALTER COLUMN amount TYPE numeric(12,2) USING amount::numeric");
    }
  });

  it("an unreachable source is an error that says what to check", async () => {
    const seed = join(tmp, "seed2");
    cpSync(join(ROOT, "specs"), join(seed, "specs"), { recursive: true });
    const c = captureIo(seed);
    expect(await run(["build", "--against", "postgres://nobody@127.0.0.1:1/none"], c.io)).toBe(1);
    expect(c.out.stderr).toMatch(/error DS1305: cannot connect to nobody@127\.0\.0\.1:1\/none[\s\S]*hint: check the URL/);
  });
});
