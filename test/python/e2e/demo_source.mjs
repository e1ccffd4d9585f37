#!/usr/bin/env node
// The e2e tests' door to the demo source database, through the repository's own TypeScript helpers
// (airflow/local/demo_shop/index.ts), so there is one oracle and one definition of each fixture:
//
//   node test/python/e2e/demo_source.mjs <database url> '<json list of operations>'
//
// Operations run in order on one connection; stdout is the JSON list of their results.
//   {"op": "kpis", "day": "YYYY-MM-DD", "timezone": "America/New_York"}   -> sourceKpis(...)
//   {"op": "insertOrder", "row": {...OrderRow}}                          -> the new order's id
//   {"op": "insertUser" | "insertEvent", "row": {...}}                    -> the new row's id
//   {"op": "setMaintenance", "window": {startsAt, endsAt, reason}}        -> null
//   {"op": "clearMaintenance"}                                           -> null
//   {"op": "setWatermark", "completeThrough": ISO, "tables"?: [...]}      -> null
//   {"op": "checkReadiness", "day": "YYYY-MM-DD", "timezone": "..."}      -> true | false
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
const demo = await jiti.import("../../../airflow/local/demo_shop/index.ts");

const [databaseUrl, opsJson] = process.argv.slice(2);
if (!databaseUrl || !opsJson) {
  process.stderr.write("usage: demo_source.mjs <database url> '<json list of operations>'\n");
  process.exit(2);
}

const handlers = {
  kpis: (c, o) => demo.sourceKpis(c, { day: o.day, timezone: o.timezone, eventTypes: o.eventTypes }),
  insertOrder: (c, o) => demo.insertOrder(c, o.row),
  insertUser: (c, o) => demo.insertUser(c, o.row),
  insertEvent: (c, o) => demo.insertEvent(c, o.row),
  setMaintenance: async (c, o) => (await demo.setMaintenance(c, o.window), null),
  clearMaintenance: async (c) => (await demo.clearMaintenance(c), null),
  setWatermark: async (c, o) => (await demo.setWatermark(c, o.completeThrough, o.tables), null),
  checkReadiness: (c, o) => demo.checkReadiness(c, o.day, o.timezone),
};

try {
  const results = await demo.withClient(databaseUrl, async (client) => {
    const out = [];
    for (const op of JSON.parse(opsJson)) {
      const handler = handlers[op.op];
      if (!handler) throw new Error(`unknown operation ${JSON.stringify(op.op)}`);
      out.push(await handler(client, op));
    }
    return out;
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
} catch (err) {
  process.stderr.write(`demo_source: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
}
