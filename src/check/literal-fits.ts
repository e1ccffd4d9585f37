/**
 * Whether an accepted_values value can be read as a literal of a column's type. dbt's
 * accepted_values writes each value in single quotes (`col not in ('a', 'b')`), and PostgreSQL reads
 * a quoted literal as the type of the column it is compared with, when it plans the query: a value
 * that is not valid input for that type fails the test on an empty table too.
 *
 * Every rule here only refuses text that PostgreSQL's input function certainly rejects (any version
 * from 13 on: PostgreSQL 16 added `1_000` and `0x1F` for integers, so they are let through).
 * Where the input grammar is too wide to mirror (dates and times take words, orders and zones),
 * only the clear cases are refused. Types without a rule (text, varchar, jsonb) accept anything.
 */

/** PostgreSQL's input functions skip isspace() around a value. */
const trimmed = (s: string) => s.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");

const INTEGER_RANGE: Record<string, [bigint, bigint]> = {
  smallint: [-(2n ** 15n), 2n ** 15n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Decimal, hexadecimal, octal and binary integers, with `_` between digits (the widest, PostgreSQL 16). */
const INTEGER = /^[+-]?(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|[0-9](_?[0-9])*)$/;
/** Any number numeric_in or strtod could read, written liberally (a superset of both grammars). */
const NUMBER = /^[+-]?(0[xX][0-9a-fA-F_.]*([pP][+-]?[0-9]+)?|0[oO][0-7_]+|0[bB][01_]+|([0-9_]+\.?[0-9_]*|\.[0-9_]+)([eE][+-]?[0-9_]+)?)$/;
const SPECIAL_NUMBER = /^[+-]?(nan(\(.*\))?|inf|infinity)$/i;
const BOOLEAN = /^(t|tr|tru|true|f|fa|fal|fals|false|y|ye|yes|n|no|on|of|off|1|0)$/i;
/** Words every date/time input function takes in place of a date. */
const SPECIAL_DATETIME = /^[+-]?(epoch|infinity|now|today|tomorrow|yesterday|allballs)$/i;

/** A value as dbt's Jinja writes it: a number in the form the YAML file holds (JavaScript's). */
export const literalText = (v: string | number): string => String(v);

/** Why `value` is not a valid literal of `type`, or null when it is (or cannot be told here). */
export function literalProblem(type: string, value: string | number): string | null {
  const text = trimmed(literalText(value));
  const range = INTEGER_RANGE[type];
  if (range) {
    if (!INTEGER.test(text)) return `not an integer`;
    if (/^[+-]?[0-9]+$/.test(text)) {
      const n = BigInt(text);
      if (n < range[0] || n > range[1]) return `out of range for ${type} (${range[0]} to ${range[1]})`;
    }
    return null;
  }
  if (/^numeric\(/.test(type) || type === "double precision" || type === "real") {
    return NUMBER.test(text) || SPECIAL_NUMBER.test(text) ? null : "not a number";
  }
  if (type === "boolean") return BOOLEAN.test(text) ? null : "not a boolean (true, false, t, f, yes, no, on, off, 1, 0)";
  if (type === "uuid") return /^[0-9a-fA-F]{32}$/.test(text.replace(/[{}-]/g, "")) ? null : "not a UUID";
  if (type === "date" || type === "timestamp" || type === "timestamptz") return datetimeProblem(text);
  return null;
}

function datetimeProblem(text: string): string | null {
  if (SPECIAL_DATETIME.test(text)) return null;
  // Without a digit there is no year, month or day: nothing but the words above reads as a date.
  if (!/[0-9]/.test(text)) return "not a date or time";
  // A four-digit year first is always read as year-month-day, whatever the DateStyle.
  const ymd = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?=$|[ T])/.exec(text);
  if (ymd) {
    const [y, m, d] = [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])];
    const days = new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !leap(y) ? 1 : 0);
    if (m < 1 || m > 12 || d < 1 || d > days) return "not a day of the calendar";
  }
  return null;
}

const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
