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
/** KPIs the pipeline rounds to cents (the model's round(x, 2)); the others must match to the digit. */
const CENTS: ReadonlySet<string> = new Set(["aov"]);

/** A decimal string as (digits, scale): "-12.30" -> (-1230n, 2). Exact, unlike a binary float. */
function decimal(text: string): { units: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal number: ${text}`);
  const fraction = m[3] ?? "";
  const units = BigInt(m[2]! + fraction);
  return { units: m[1] ? -units : units, scale: fraction.length };
}

/** Whether two decimal strings are the same number; `cents` rounds `want` half away from zero first. */
export function sameDecimal(got: string, want: string, cents = false): boolean {
  const a = decimal(got);
  let b = decimal(want);
  if (cents && b.scale > 2) {
    const drop = 10n ** BigInt(b.scale - 2);
    const half = drop / 2n;
    const abs = b.units < 0n ? -b.units : b.units;
    const rounded = (abs + half) / drop;
    b = { units: b.units < 0n ? -rounded : rounded, scale: 2 };
  }
  const scale = Math.max(a.scale, b.scale);
  return a.units * 10n ** BigInt(scale - a.scale) === b.units * 10n ** BigInt(scale - b.scale);
}

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
  // report.json: counts as integers, money as exact decimal strings.
  const report = JSON.parse(readFileSync(file, "utf8")) as { ds: string; kpis: Record<string, string | number | null> };
  const source = await withClient(values["database-url"], (c) => sourceKpis(c, { day: values.day!, timezone: values.timezone }));
  const rows = KPIS.map((k) => {
    const got = report.kpis[k] ?? null;
    const exact = (source as unknown as Record<string, string | number | null>)[k] ?? null;
    const match = got !== null && exact !== null && sameDecimal(String(got), String(exact), CENTS.has(k));
    return { k, got, want: exact === null ? null : Number(exact), match };
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
