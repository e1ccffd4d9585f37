/**
 * The column checks' test harness: one spec with the source tables `orders`, `users` (snapshot) and
 * `plans` (history), built in a scratch folder; shared by column-checks and sql-false-positives.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../../src/build/build.ts";

export type Models = Record<string, { sql: string; columns: Record<string, unknown>; layer?: string }>;

/** Builds one spec with the source table `orders` and the given models; returns its diagnostics. */
export async function diagnose(models: Models, tests: Record<string, { sql: string }> = {}) {
  const spec = {
    id: "cols",
    description: "Column checks.",
    owner: "data",
    schedule: { cron: "0 6 * * *", timezone: "UTC", startDate: "2026-01-01", reportLagDays: 1 },
    source: {
      connId: "app_db",
      readiness: { sql: "select true" },
      tables: {
        orders: {
          columns: { id: "bigint", amount: "numeric(12,2)", paid: "boolean", token: "uuid", created_at: "timestamptz", currency: "text", tags: "jsonb" },
          primaryKey: ["id"],
          extract: { mode: "incremental", cursor: "created_at" },
        },
        users: { columns: { id: "bigint", name: "text" }, primaryKey: ["id"], extract: { mode: "snapshot" } },
        plans: { columns: { plan: "text", price: "numeric(10,2)", modified_at: "timestamptz" }, primaryKey: ["plan"], extract: { mode: "history", cursor: "modified_at" } },
      },
    },
    models: Object.fromEntries(Object.entries(models).map(([k, m]) => [k, { layer: "staging", ...m }])),
    tests,
    report: { model: Object.keys(models)[0], dayColumn: "ds", kpis: [{ column: "ds", label: "Day", format: "count" }], subject: "Daily {ds}", recipients: ["a@example.com"] },
  };
  const root = mkdtempSync(join(tmpdir(), "dagspec-columns-"));
  try {
    mkdirSync(join(root, "specs"));
    writeFileSync(join(root, "specs/cols.pipeline.ts"), `import { definePipeline } from "dagspec";\nexport default definePipeline(${JSON.stringify(spec, null, 2)} as any);\n`);
    const result = await build({ root, specDir: "specs", skipTypecheck: true });
    return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const SRC = "{{ source('app', 'orders') }}";
