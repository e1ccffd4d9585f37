import { afterAll, describe, expect, test } from "vitest";
import { createDemoShop, withClient } from "../../airflow/local/demo_shop/index.ts";
import { dropDatabase, scratchDatabaseUrl } from "./scratch-db.ts";

const PARAMS = { days: 10, endDay: "2026-11-03", ordersPerDay: 1500, seed: 11, timezone: "America/New_York" };
const urlA = scratchDatabaseUrl("determinism_a");
const urlB = scratchDatabaseUrl("determinism_b");

/** md5 over every row of each app table in id order; instants as epoch microseconds (no session TimeZone). */
async function checksums(url: string): Promise<Record<string, string>> {
  const us = (col: string) => `(extract(epoch FROM ${col}) * 1000000)::bigint`;
  const tables = {
    orders: `SELECT md5(string_agg(concat_ws('|', id, user_id, amount, status, ${us("created_at")}, ${us("updated_at")}), ',' ORDER BY id)) FROM app.orders`,
    events: `SELECT md5(string_agg(concat_ws('|', id, user_id, event_type, ${us("occurred_at")}), ',' ORDER BY id)) FROM app.events`,
    users: `SELECT md5(string_agg(concat_ws('|', id, email, country, ${us("created_at")}, ${us("updated_at")}), ',' ORDER BY id)) FROM app.users`,
  };
  return withClient(url, async (c) => {
    const out: Record<string, string> = {};
    for (const [name, sql] of Object.entries(tables)) out[name] = (await c.query(sql)).rows[0].md5;
    return out;
  });
}

afterAll(async () => {
  await dropDatabase(urlA);
  await dropDatabase(urlB);
});

describe("createDemoShop is deterministic", { timeout: 120_000 }, () => {
  test("same parameters give identical rows, however the work is cut and scheduled", async () => {
    await Promise.all([dropDatabase(urlA), dropDatabase(urlB)]);
    // A: one connection, the default (large) statements. B: two connections, statements of ~2000
    // rows, so many day slices and user ranges run in a different order.
    await createDemoShop({ ...PARAMS, databaseUrl: urlA, parallelism: 1 });
    await createDemoShop({ ...PARAMS, databaseUrl: urlB, parallelism: 2, rowsPerJob: 2000 });
    const [a, b] = [await checksums(urlA), await checksums(urlB)];
    expect(a.orders).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toEqual(a);
  });

  test("a reset re-seed reproduces the rows; another seed changes them", async () => {
    const before = await checksums(urlA);
    const again = await createDemoShop({ ...PARAMS, databaseUrl: urlA, reset: true });
    expect(again.action).toBe("seeded");
    expect(await checksums(urlA)).toEqual(before);

    const other = await createDemoShop({ ...PARAMS, seed: 12, databaseUrl: urlA });
    expect(other.action).toBe("seeded"); // different parameters: re-seeded without asking for reset
    const changed = await checksums(urlA);
    expect(changed.orders).not.toBe(before.orders);
    expect(changed.events).not.toBe(before.events);
    expect(changed.users).not.toBe(before.users);
  });
});
