import { describe, expect, it } from "vitest";
import { sameDecimal } from "../../airflow/local/demo_shop/print-report.ts";

describe("the demo report printer compares report.json's decimals exactly", () => {
  it("matches the same number whatever its scale, and nothing a float would blur", () => {
    expect(sameDecimal("4101774.55", "4101774.55")).toBe(true);
    expect(sameDecimal("4101774.5", "4101774.50")).toBe(true);
    expect(sameDecimal("90856", "90856")).toBe(true);
    expect(sameDecimal("-349331.39", "-349331.39")).toBe(true);
    expect(sameDecimal("4101774.55", "4101774.56")).toBe(false);
    // Beyond 2^53 a float cannot tell these apart; the decimals can.
    expect(sameDecimal("9007199254740993.01", "9007199254740993.02")).toBe(false);
  });

  it("rounds the source's exact quotient to cents, half away from zero, when the pipeline does", () => {
    expect(sameDecimal("45.15", "45.145885246984236", true)).toBe(true);
    expect(sameDecimal("45.14", "45.145885246984236", true)).toBe(false);
    expect(sameDecimal("2.68", "2.675", true)).toBe(true);
    expect(sameDecimal("-2.68", "-2.675", true)).toBe(true);
    expect(sameDecimal("45.15", "45.145885246984236")).toBe(false); // not when it does not
  });

  it("refuses what is not a decimal number", () => {
    expect(() => sameDecimal("1e5", "100000")).toThrow(/not a decimal/);
  });
});
