import { describe, expect, it } from "vitest";
import { backfillArgs, logicalDateFor, onePassArgs } from "../../src/cli/airflow-backfill.ts";
import { parseDailyCron } from "../../src/time/cron.ts";
import { addDays, localToUtc, offsetMinutes } from "../../src/time/zone.ts";

describe("zone", () => {
  it("knows New York's offsets either side of the clock changes", () => {
    expect(offsetMinutes(Date.UTC(2026, 0, 15, 12), "America/New_York")).toBe(-300);
    expect(offsetMinutes(Date.UTC(2026, 6, 15, 12), "America/New_York")).toBe(-240);
  });

  it("maps local wall time to UTC, including on 23 h and 25 h days", () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(iso(localToUtc("2026-11-27", 6 * 60, "America/New_York"))).toBe("2026-11-27T11:00:00.000Z");
    expect(iso(localToUtc("2026-03-08", 6 * 60, "America/New_York"))).toBe("2026-03-08T10:00:00.000Z");
    const day = (d: string) => (localToUtc(addDays(d, 1), 0, "America/New_York") - localToUtc(d, 0, "America/New_York")) / 3_600_000;
    expect(day("2026-03-08")).toBe(23);
    expect(day("2026-11-01")).toBe(25);
    expect(day("2026-11-02")).toBe(24);
  });

  it("adds days across month and year ends", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
  });
});

describe("cron", () => {
  it("accepts fixed local start times", () => {
    expect(parseDailyCron("0 6 * * *")).toEqual({ ok: true, value: { startMinutes: [360] } });
    expect(parseDailyCron("30 18,6 * * 1-5")).toEqual({ ok: true, value: { startMinutes: [390, 1110] } });
  });

  it.each([
    ["*/5 * * * *", /minute/],
    ["0 * * * *", /hour/],
    ["0 6 * *", /5 fields/],
    ["0 25 * * *", /hour/],
    ["0 6 L * *", /day-of-month/],
  ])("rejects %s", (cron, message) => {
    const r = parseDailyCron(cron);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe("backfill dates", () => {
  const schedule = { timezone: "America/New_York", reportLagDays: 1, startMinutes: [360], maxActiveRuns: 4 };

  it("turns a report day into the scheduled start of the run that reports on it", () => {
    expect(logicalDateFor(schedule, "2026-11-23")).toBe("2026-11-24T06:00:00-05:00");
    // The run reporting on the last summer-time day starts after the clocks went back.
    expect(logicalDateFor(schedule, "2026-10-31")).toBe("2026-11-01T06:00:00-05:00");
    expect(logicalDateFor(schedule, "2026-10-30")).toBe("2026-10-31T06:00:00-04:00");
  });

  it("passes the spec's parallelism and the exact range", () => {
    expect(backfillArgs({ id: "p", schedule }, "2026-11-23", "2026-11-25", true)).toEqual([
      "backfill", "create", "--dag-id", "p",
      "--from-date", "2026-11-24T06:00:00-05:00", "--to-date", "2026-11-26T06:00:00-05:00",
      "--max-active-runs", "4", "--reprocess-behavior", "completed",
    ]);
  });

  it("one pass: triggers the pipeline's backfill DAG with the report days as its params", () => {
    expect(onePassArgs({ id: "p" }, "2026-10-27", "2026-11-25")).toEqual([
      "dags", "trigger", "p__backfill", "--conf", '{"first_day":"2026-10-27","last_day":"2026-11-25"}',
    ]);
  });
});
