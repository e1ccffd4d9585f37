/**
 * `demo-shop report --report DIR --day D`: prints the archived report's KPIs next to the same KPIs
 * computed straight from the source database, and the paths of the report and the saved email.
 * Exit 1 when they disagree: the demo's last word is whether the numbers are right.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sourceKpis } from "./source-kpis.ts";
import { withClient } from "./database.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_TIMEZONE } from "./options.ts";

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const KPIS = ["revenue", "orders", "aov", "dau"] as const;

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      report: { type: "string" },
      day: { type: "string" },
      outbox: { type: "string" },
      "database-url": { type: "string", default: DEFAULT_DATABASE_URL },
      timezone: { type: "string", default: DEFAULT_TIMEZONE },
    },
  });
  if (!values.report || !values.day) {
    io.stderr("usage: demo-shop report --report DIR --day YYYY-MM-DD [--outbox DIR]\n");
    return 2;
  }
  const file = join(values.report, "report.json");
  if (!existsSync(file)) {
    io.stderr(`no report archived at ${file}\n`);
    return 1;
  }
  const report = JSON.parse(readFileSync(file, "utf8")) as { ds: string; kpis: Record<string, number | null> };
  const source = await withClient(values["database-url"], (c) => sourceKpis(c, { day: values.day!, timezone: values.timezone }));
  const rows = KPIS.map((k) => {
    const got = report.kpis[k] ?? null;
    const want = Number((source as unknown as Record<string, unknown>)[k]);
    const match = got !== null && Math.abs(got - want) < 0.005;
    return { k, got, want, match };
  });
  io.stdout(`\nMorning report for ${report.ds} (pipeline vs. computed directly on the source)\n\n`);
  io.stdout(`  ${"kpi".padEnd(8)} ${"report".padStart(16)} ${"source".padStart(16)}\n`);
  for (const r of rows) io.stdout(`  ${r.k.padEnd(8)} ${String(r.got).padStart(16)} ${String(r.want).padStart(16)}  ${r.match ? "ok" : "MISMATCH"}\n`);
  io.stdout(`\n  archived report: ${join(values.report, "report.html")}\n                   ${file}\n`);
  if (values.outbox && existsSync(values.outbox)) {
    const mails = readdirSync(values.outbox).filter((f) => f.endsWith(".eml")).sort();
    io.stdout(`  saved email:     ${mails.length ? join(values.outbox, mails[mails.length - 1]!) : "(none)"}\n`);
  }
  return rows.every((r) => r.match) ? 0 : 1;
}
