/**
 * `npx jiti airflow/local/demo_shop/cli.ts [--days 60] [--end-day 2026-11-15] [--orders-per-day 100000] [--seed 42]
 *   [--timezone America/New_York] [--database-url postgres://...] [--reset] [--drop]`
 * Seeds the demo database and prints what it did as JSON (with per-phase seconds). `--drop` drops
 * the database afterwards (for measuring into a scratch database).
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { createDemoShop } from "./create-demo-shop.ts";
import { dropDatabase } from "./database.ts";
import { DEFAULT_DATABASE_URL, DEFAULT_ORDERS_PER_DAY, DEFAULT_SEED, DEFAULT_TIMEZONE } from "./options.ts";

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `usage: demo-shop --end-day YYYY-MM-DD [--days N] [--orders-per-day N] [--seed N] [--timezone TZ]
                 [--database-url URL] [--reset] [--drop] [--parallelism N]\n`;

export async function run(argv: readonly string[], io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "database-url": { type: "string", default: DEFAULT_DATABASE_URL },
        days: { type: "string", default: "60" },
        "end-day": { type: "string" },
        "orders-per-day": { type: "string", default: String(DEFAULT_ORDERS_PER_DAY) },
        seed: { type: "string", default: String(DEFAULT_SEED) },
        timezone: { type: "string", default: DEFAULT_TIMEZONE },
        parallelism: { type: "string", default: "2" },
        reset: { type: "boolean", default: false },
        drop: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help || !values["end-day"]) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const result = await createDemoShop({
      databaseUrl: values["database-url"],
      days: Number(values.days),
      endDay: values["end-day"],
      ordersPerDay: Number(values["orders-per-day"]),
      seed: Number(values.seed),
      timezone: values.timezone,
      parallelism: Number(values.parallelism),
      reset: values.reset,
    });
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    if (values.drop) await dropDatabase(result.databaseUrl);
    return 0;
  } catch (err) {
    io.stderr(`demo-shop: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
}
