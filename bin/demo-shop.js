#!/usr/bin/env node
// The demo source database: `demo-shop --end-day YYYY-MM-DD [--days 60] ...` (see airflow/local/demo_shop/cli.ts).
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
const { run } = await jiti.import(process.argv[2] === "report" ? "../airflow/local/demo_shop/print-report.ts" : "../airflow/local/demo_shop/cli.ts");
const argv = process.argv.slice(process.argv[2] === "report" ? 3 : 2);
process.exitCode = await run(argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
