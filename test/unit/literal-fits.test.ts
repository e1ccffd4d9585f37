/**
 * accepted_values literals against column types: each case is what PostgreSQL 15 answered for
 * `select '<value>'::<type>`, except where a comment says the rule cannot be sure.
 */
import { describe, expect, it } from "vitest";
import { literalProblem } from "../../src/check/literal-fits.ts";

describe("literals PostgreSQL refuses (checked against PostgreSQL 15)", () => {
  it.each([
    ["bigint", "USD"],
    ["bigint", "1.0"],
    ["bigint", "1e3"],
    ["bigint", 1e21],
    ["bigint", "9223372036854775808"],
    ["integer", 3_000_000_000],
    ["smallint", 40_000],
    ["numeric(12,2)", "twelve"],
    ["double precision", "x1"],
    ["boolean", "o"],
    ["boolean", "maybe"],
    ["boolean", 2],
    ["date", "january"],
    ["date", "UTC"],
    ["date", "  "],
    ["date", "2026-02-29"],
    ["timestamptz", "2026-02-29 10:00"],
    ["timestamptz", "monday"],
    ["uuid", "not-a-uuid"],
  ] as const)("%s refuses %j", (type, value) => {
    expect(literalProblem(type, value)).not.toBeNull();
  });

  it.each([
    ["bigint", " 12 "],
    ["bigint", "-9223372036854775808"],
    // PostgreSQL 16 reads these; 15 does not, so the rule lets them through.
    ["bigint", "1_000"],
    ["bigint", "0x1F"],
    ["integer", -0],
    ["numeric(12,2)", "Infinity"],
    ["numeric(12,2)", "1e+21"],
    ["numeric(12,2)", 0.5],
    ["real", "inf"],
    ["double precision", "0x1p3"],
    ["double precision", "nan(1)"],
    ["boolean", " yes "],
    ["boolean", "of"],
    ["boolean", 1],
    ["date", "today"],
    ["date", "-infinity"],
    // PostgreSQL refuses it, but digits can make a date (YYMMDD); the rule does not guess.
    ["date", "86400"],
    ["date", "2024-02-29"],
    ["timestamp", "epoch"],
    ["timestamptz", "Jan 8 2026 04:05 PST"],
    ["uuid", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}"],
    ["text", 42],
    ["jsonb", "not json"],
  ] as const)("%s lets %j through (PostgreSQL reads it, or the rule cannot be sure)", (type, value) => {
    expect(literalProblem(type, value)).toBeNull();
  });
});
