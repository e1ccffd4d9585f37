/**
 * The runtime contract from the compiler's side: every config the emitter writes parses with the
 * contract's zod schema; the JSON schema committed beside the runtime is exactly the one this
 * schema produces; the runtime tests' fixture configs are compiled from their specs, not written by
 * hand. `UPDATE_GOLDEN=1 npx vitest run test/contract` rewrites the committed files.
 * (test/python/test_contract.py checks the committed schema against the runtime's dataclasses.)
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../../src/build/build.ts";
import { DeadlineKwargsSchema, RuntimeConfigSchema, runtimeConfigJsonSchema } from "../../src/ir/contract.ts";
import { deadlineKwargs, pipelineConfig } from "../../src/emit/airflow/pipeline-config.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SCHEMA_FILE = join(REPO, "airflow/runtime/src/dagspec_runtime/contract.schema.json");
const FIXTURES = join(REPO, "test/python/fixtures");
const update = process.env.UPDATE_GOLDEN === "1";

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function golden(path: string, text: string) {
  if (update) writeFileSync(path, text);
  expect(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/contract`).toBe(true);
  expect(readFileSync(path, "utf8"), `${path} is stale: run UPDATE_GOLDEN=1 npx vitest run test/contract`).toBe(text);
}

describe("runtime contract", () => {
  it("the committed JSON schema is the one the zod schema produces", () => {
    golden(SCHEMA_FILE, json(runtimeConfigJsonSchema()));
  });

  it("every compiled pipeline's config satisfies the contract", async () => {
    const roots = [REPO, ...readdirSync(join(REPO, "test/cases")).map((c) => join(REPO, "test/cases", c))];
    let checked = 0;
    for (const root of roots) {
      const result = await build({ root, specDir: "specs", skipTypecheck: true });
      for (const ir of result.pipelines) {
        expect(() => RuntimeConfigSchema.parse(pipelineConfig(ir)), ir.id).not.toThrow();
        if (ir.sla) for (const stage of ["at_risk", "breach"] as const) expect(() => DeadlineKwargsSchema.parse(deadlineKwargs(ir, ir.sla!, stage)), ir.id).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  for (const target of ["duckdb", "postgres"]) {
    it(`the runtime tests' ${target} fixture config is compiled from its spec`, async () => {
      const result = await build({ root: join(FIXTURES, target), specDir: "specs" });
      expect(result.diagnostics).toEqual([]);
      const [ir] = result.pipelines;
      golden(join(FIXTURES, target, "config.json"), json(pipelineConfig(ir!)));
    });
  }
});
