/** DS1229: a pipeline id may not end with `__backfill`, the suffix of every pipeline's backfill DAG. */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../../src/build/build.ts";
import { DEFAULT_HINTS } from "../../src/diagnostics/codes.ts";

function spec(id: string): string {
  return `import { definePipeline } from "dagspec";
export default definePipeline({
  id: ${JSON.stringify(id)},
  description: "DAG ids.",
  owner: "data",
  schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01" },
  source: {
    connId: "app_db",
    readiness: { sql: "select true" },
    tables: { t: { columns: { id: "bigint" }, primaryKey: ["id"], extract: { mode: "snapshot" } } },
  },
  models: { m: { layer: "marts", sql: "select ds, count(*) as n from {{ source('app', 't') }} group by ds", columns: { ds: {}, n: {} } } },
  report: { model: "m", dayColumn: "ds", kpis: [{ column: "n", label: "N", format: "count" }], subject: "s", recipients: ["a@example.com"] },
});
`;
}

/** Builds one spec file per id; returns the errors as `file code path: message`. */
async function errors(ids: string[]) {
  const root = mkdtempSync(join(tmpdir(), "dagspec-dag-ids-"));
  try {
    mkdirSync(join(root, "specs"));
    for (const [i, id] of ids.entries()) writeFileSync(join(root, `specs/p${i}.pipeline.ts`), spec(id));
    const result = await build({ root, specDir: "specs", skipTypecheck: true });
    return { result, errors: result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file} ${d.code} ${d.path}: ${d.message}`) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("DS1229: pipeline ids and the backfill DAGs", () => {
  it("refuses an id that is another pipeline's backfill DAG id", async () => {
    const { result, errors: e } = await errors(["metrics", "metrics__backfill"]);
    expect(e).toEqual([
      "specs/p1.pipeline.ts DS1229 id: pipeline id 'metrics__backfill' ends with '__backfill': it is the dag_id of the backfill DAG generated for a pipeline 'metrics'",
    ]);
    expect(result.diagnostics[0]?.hint).toBe(DEFAULT_HINTS.DS1229);
    expect(result.files.size).toBe(0);
  });

  it("refuses the suffix with no such pipeline in the folder (it could be added later)", async () => {
    const { errors: e } = await errors(["orphan__backfill"]);
    expect(e.map((x) => x.split(":")[0])).toEqual(["specs/p0.pipeline.ts DS1229 id"]);
  });

  it("accepts ids that only look alike, and emits each pipeline's backfill DAG", async () => {
    const { result, errors: e } = await errors(["live_backfill", "backfill__x", "metrics"]);
    expect(e).toEqual([]);
    const dags = [...result.files.keys()].filter((f) => f.startsWith("dags/")).sort();
    expect(dags).toEqual(["dags/backfill__x.py", "dags/live_backfill.py", "dags/metrics.py"]);
    const metrics = result.files.get("dags/metrics.py") ?? "";
    expect(metrics.match(/^ {4}dag_id=.*$/gm)).toEqual(['    dag_id="metrics",', '    dag_id="metrics__backfill",']);
  });
});
