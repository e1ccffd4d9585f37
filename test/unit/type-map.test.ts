/** Catalogue types to dagspec column types: what maps, and why the rest does not. */
import { describe, expect, it } from "vitest";
import { mapColumnType } from "../../src/introspect/type-map.ts";
import { columnType } from "../../src/spec/schema.ts";

const base = (type: string) => mapColumnType({ type, kind: "b", category: "X" });

describe("mapColumnType", () => {
  it.each([
    ["bigint", "bigint"],
    ["integer", "integer"],
    ["numeric(12,2)", "numeric(12,2)"],
    ["character varying(255)", "varchar"],
    ["character varying", "varchar"],
    ["timestamp with time zone", "timestamptz"],
    ["timestamp(3) with time zone", "timestamptz"],
    ["timestamp without time zone", "timestamp"],
    ["double precision", "double precision"],
    ["uuid", "uuid"],
    ["jsonb", "jsonb"],
  ])("%s -> %s, a type the spec schema accepts", (pg, want) => {
    const m = base(pg);
    expect(m).toEqual({ ok: true, type: want });
    expect(columnType.safeParse(want).success).toBe(true);
  });

  it.each([
    ["numeric", /without precision/],
    ["numeric(80,2)", /exceeds 76/],
    ["json", /jsonb is/],
    ["character(3)", /pads with blanks/],
    ["bytea", /no Parquet mapping/],
    ["interval", /no Parquet mapping/],
  ])("%s is listed with a reason", (pg, reason) => {
    const m = base(pg);
    expect(m.ok).toBe(false);
    if (!m.ok) expect(m.reason).toMatch(reason);
  });

  it("arrays and enums are named as such", () => {
    expect(mapColumnType({ type: "text[]", kind: "b", category: "A" })).toMatchObject({ ok: false, reason: expect.stringMatching(/arrays/) });
    expect(mapColumnType({ type: "mood", kind: "e", category: "E" })).toMatchObject({ ok: false, reason: expect.stringMatching(/enum/) });
  });
});
