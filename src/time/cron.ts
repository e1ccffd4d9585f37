/**
 * The subset of cron dagspec accepts: a fixed minute, a fixed hour or list of hours (so each run has a
 * local start time the SLA can be measured from), and day-of-month/month/day-of-week fields with
 * lists, ranges and steps. Every value is range-checked as strictly as Airflow's cron parser
 * (croniter): a field out of range, a reversed range or a step of 0 would make the DAG fail to import.
 */
export interface DailyCron {
  /** Local start times, minutes after midnight, ascending. */
  startMinutes: number[];
}

type Parsed = { ok: true; values: Set<number> } | { ok: false; message: string };

const DOW_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** One field: comma-separated items, each `*`, `n` or `a-b`, optionally `/step`. */
function parseField(field: string, what: string, min: number, max: number, names: string[] = []): Parsed {
  const values = new Set<number>();
  const num = (s: string): number | undefined => {
    if (/^\d{1,2}$/.test(s)) return Number(s);
    const i = names.indexOf(s.toUpperCase());
    return i >= 0 ? i : undefined;
  };
  for (const item of field.split(",")) {
    const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(item);
    if (!m) return { ok: false, message: `unsupported ${what} field '${field}'` };
    const [, span = "", stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return { ok: false, message: `${what} step must be at least 1, got '${item}'` };
    let lo: number | undefined;
    let hi: number | undefined;
    if (span === "*") [lo, hi] = [min, max];
    else {
      const [a = "", b, extra] = span.split("-");
      if (extra !== undefined) return { ok: false, message: `unsupported ${what} field '${field}'` };
      lo = num(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : num(b);
    }
    if (lo === undefined || hi === undefined) return { ok: false, message: `unsupported ${what} field '${field}'` };
    if (lo < min || hi > max) return { ok: false, message: `${what} values are ${min}-${max}, got '${item}'` };
    if (lo > hi) return { ok: false, message: `${what} range '${span}' runs backwards` };
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { ok: true, values };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseDailyCron(cron: string): { ok: true; value: DailyCron } | { ok: false; message: string } {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return { ok: false, message: `cron needs 5 fields (minute hour day month weekday), got ${fields.length}` };
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (!/^\d{1,2}$/.test(minute) || +minute > 59) return { ok: false, message: `minute must be a single number 0-59, got '${minute}'` };
  if (!/^\d{1,2}(,\d{1,2})*$/.test(hour) || hour.split(",").some((h) => +h > 23))
    return { ok: false, message: `hour must be a number 0-23 or a list of them, got '${hour}'` };
  const days = parseField(dom, "day-of-month", 1, 31);
  if (!days.ok) return days;
  const months = parseField(month, "month", 1, 12);
  if (!months.ok) return months;
  const weekdays = parseField(dow, "day-of-week", 0, 7, DOW_NAMES);
  if (!weekdays.ok) return weekdays;
  // `0 6 31 2 *` is valid syntax that never fires; croniter gives up looking for its next date.
  const restrictedDays = dom !== "*" && dow === "*";
  if (restrictedDays && ![...months.values].some((m) => [...days.values].some((d) => d <= (DAYS_IN_MONTH[m - 1] as number))))
    return { ok: false, message: `day-of-month '${dom}' never occurs in month '${month}'` };
  const hours = [...new Set(hour.split(",").map(Number))].sort((a, b) => a - b);
  return { ok: true, value: { startMinutes: hours.map((h) => h * 60 + +minute) } };
}
