/**
 * The subset of cron dagspec accepts: a fixed minute, a fixed hour or list of hours (so each run has a
 * local start time the SLA can be measured from), and any day-of-month/month/day-of-week field.
 */
export interface DailyCron {
  /** Local start times, minutes after midnight, ascending. */
  startMinutes: number[];
}

const DAY_FIELD = /^(\*|\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*)(\/\d{1,2})?$/;
const DOW_FIELD = /^(\*|[0-7](-[0-7])?(,[0-7](-[0-7])?)*|(MON|TUE|WED|THU|FRI|SAT|SUN)(-(MON|TUE|WED|THU|FRI|SAT|SUN))?(,(MON|TUE|WED|THU|FRI|SAT|SUN)(-(MON|TUE|WED|THU|FRI|SAT|SUN))?)*)$/i;

export function parseDailyCron(cron: string): { ok: true; value: DailyCron } | { ok: false; message: string } {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return { ok: false, message: `cron needs 5 fields (minute hour day month weekday), got ${fields.length}` };
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (!/^\d{1,2}$/.test(minute) || +minute > 59) return { ok: false, message: `minute must be a single number 0-59, got '${minute}'` };
  if (!/^\d{1,2}(,\d{1,2})*$/.test(hour) || hour.split(",").some((h) => +h > 23))
    return { ok: false, message: `hour must be a number 0-23 or a list of them, got '${hour}'` };
  if (!DAY_FIELD.test(dom)) return { ok: false, message: `unsupported day-of-month field '${dom}'` };
  if (!DAY_FIELD.test(month)) return { ok: false, message: `unsupported month field '${month}'` };
  if (!DOW_FIELD.test(dow)) return { ok: false, message: `unsupported day-of-week field '${dow}'` };
  const hours = [...new Set(hour.split(",").map(Number))].sort((a, b) => a - b);
  return { ok: true, value: { startMinutes: hours.map((h) => h * 60 + +minute) } };
}
