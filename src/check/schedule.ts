/**
 * Schedule and SLA checks. A run starts at a local time given by the cron; its report is due at
 * `sla.deliverBy` local time on the same day. The deadline must fall after the start and before the
 * next run starts, and the window must not straddle a daylight-saving change: Airflow measures a
 * DeadlineAlert as a fixed interval from the logical date, which would then be an hour off.
 */
import { parseDailyCron } from "../time/cron.ts";
import { addDays, localToUtc } from "../time/zone.ts";
import type { CheckedSpec } from "../spec/schema.ts";
import type { SlaIR } from "../ir/types.ts";
import type { Reporter } from "./context.ts";

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

export function checkSchedule(spec: CheckedSpec, report: Reporter): { startMinutes: number[]; sla: SlaIR | null } | undefined {
  const cron = parseDailyCron(spec.schedule.cron);
  if (!cron.ok) {
    report.error("DS1213", ["schedule", "cron"], cron.message, 'example: "0 6 * * *" (06:00 every day)');
    return undefined;
  }
  const starts = cron.value.startMinutes;
  if (!spec.sla) {
    if (spec.report.corrections === "alert") {
      report.error("DS1226", ["report", "corrections"], 'corrections: "alert" tells the engineers, but the spec has no sla (no engineers, no PagerDuty)');
      return undefined;
    }
    return { startMinutes: starts, sla: null };
  }
  const [h, m] = spec.sla.deliverBy.split(":").map(Number) as [number, number];
  const due = h * 60 + m;
  let ok = true;
  for (const [i, start] of starts.entries()) {
    const next = starts[i + 1] ?? (starts[0] as number) + 1440;
    if (due <= start) {
      report.error("DS1209", ["sla", "deliverBy"], `deadline ${spec.sla.deliverBy} is not after the run scheduled at ${hhmm(start)}`, "deliverBy is a local time on the run's start day");
      ok = false;
    } else if (due > next) {
      report.error("DS1210", ["sla", "deliverBy"], `deadline ${spec.sla.deliverBy} is after the next run at ${hhmm(next % 1440)}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  const start = starts[0] as number;
  const atRisk = due - spec.sla.atRiskLeadMinutes;
  if (atRisk <= start) {
    report.error("DS1209", ["sla", "atRiskLeadMinutes"], `the at-risk alert (${spec.sla.atRiskLeadMinutes} min before ${spec.sla.deliverBy}) would fire at or before the scheduled start ${hhmm(start)}`);
    return undefined;
  }
  const dst = dstConflict(spec.schedule.timezone, spec.schedule.startDate, start, due);
  if (dst) {
    report.error(
      "DS1215",
      ["sla", "deliverBy"],
      `between ${hhmm(start)} and ${spec.sla.deliverBy} the clocks change on ${dst} in ${spec.schedule.timezone}, so a fixed deadline would be an hour off`,
      "schedule the run after the daylight-saving change hour (e.g. after 03:00)",
    );
    return undefined;
  }
  return {
    startMinutes: starts,
    sla: {
      deliverBy: spec.sla.deliverBy,
      atRiskLeadMinutes: spec.sla.atRiskLeadMinutes,
      breachAfterMinutes: due - start,
      atRiskAfterMinutes: atRisk - start,
      pagerdutyConnId: spec.sla.pagerduty.connId,
      pagerdutySeverity: spec.sla.pagerduty.severity,
      engineers: [...spec.sla.engineers],
      smtpConnId: spec.sla.smtpConnId ?? spec.report.smtpConnId,
    },
  };
}

/** First day within two years of `from` on which [start, due) local is not (due - start) minutes long. */
function dstConflict(tz: string, from: string, start: number, due: number): string | undefined {
  for (let i = 0; i < 800; i++) {
    const day = addDays(from, i);
    const elapsed = (localToUtc(day, due, tz) - localToUtc(day, start, tz)) / 60_000;
    if (elapsed !== due - start) return day;
  }
  return undefined;
}
