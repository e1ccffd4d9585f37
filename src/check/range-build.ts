/**
 * Whether one dbt build can gate a backfill's range of report days, and how each model and test
 * is built in it (`RangeFormIR`; the SQL is emitted by `emit/dbt/range-build.ts`).
 *
 * A range build must gate each day exactly as that day's own build would: its models hold, for
 * every day, the rows that day's build writes and publishes, and its tests fail whenever some
 * day's own tests would. (They may fail more often: the backfill then gates day by day, and only
 * its speed is lost.) That holds for the shapes below; anything else keeps the backfill on one
 * build per day, and the reason is written into the project (dbt_project.yml) for the reader.
 *
 * - A model that neither reads the day nor a dimension as of the day is static: built once.
 * - An incremental model is rendered once per day, each rendering's rows kept for its own
 *   partition: what its daily build publishes. It must not read `{{ this }}` (its own earlier
 *   days, which a range build has not written yet when it renders them).
 * - Nothing may read an incremental model (a history's merge included), no model and no singular
 *   test: in a range build it already holds the days after the one being rendered or tested,
 *   which that day's own build had not built yet. (The generic tests the spec puts on an
 *   incremental model test its day's rows alone, which are the day's own build's.)
 * - The first day of a range is gated by a build of its own (the runtime does this), so that a
 *   first (whole) build of an incremental model happens where the day-by-day builds have it, and
 *   every rendering in the range build is an incremental one, as in their later days.
 * - A history table's `<table>_current` (the rows as of the day) holds each version once, with
 *   the days it is valid for; a model whose rows each come from one row of such a model (no
 *   aggregate, window, DISTINCT, GROUP BY, ORDER BY or LIMIT; any WHERE), reading nothing else,
 *   carries those days too. These are the dimensions "as of the day"; no mart may be one (it is
 *   published as its day's rows).
 * - Generic tests place every row in its days; unique and relationships compare rows of one day.
 *   A relationships test whose parent is an incremental model could see days a daily build has
 *   not built yet, so it keeps the backfill day by day.
 * - Singular tests that read the day or a dimension as of it are rendered once per day.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { RangeFormIR } from "../ir/types.ts";
import { isDayVar, scanJinja } from "../sql/jinja.ts";
import { formatDbtSql } from "../sql/format-sql.ts";
import type { SqlDeps } from "./sql-refs.ts";

/** A name the range forms may write unquoted (in the select lists they add columns to). */
const PLAIN_NAME = /^[a-z_][a-z0-9_]*$/;

export interface RangeBuildPlan {
  ok: { ok: true } | { ok: false; reason: string };
  models: Map<string, RangeFormIR>;
  /** Singular tests rendered once per day. */
  eachDayTests: Set<string>;
}

export interface GeneratedKinds {
  /** `<table>_history`: its SQL merges a range of partitions itself. */
  history: Set<string>;
  /** `<table>_current` and its range form. */
  current: Map<string, string>;
}

/** Which of `{{ var('ds') }}` and `{{ this }}` the SQL uses (the allowlist admits no other spelling). */
export function dayReads(sql: string): { day: boolean; self: boolean } {
  const scan = scanJinja(sql);
  const exprs = scan.ok ? scan.tokens.filter((t) => t.kind === "expr").map((t) => t.body) : [];
  return { day: exprs.some(isDayVar), self: exprs.includes("this") };
}

export function planRangeBuild(
  spec: CheckedSpec,
  order: string[],
  sql: { models: ReadonlyMap<string, string>; tests: ReadonlyMap<string, string> },
  deps: ReadonlyMap<string, SqlDeps>,
  testDeps: ReadonlyMap<string, SqlDeps>,
  generated: GeneratedKinds,
): RangeBuildPlan {
  const models = new Map<string, RangeFormIR>();
  const eachDayTests = new Set<string>();
  const reasons: string[] = [];
  // Each dimension as of the day, with its columns.
  const asOf = new Map<string, string[]>();
  // Models whose table a build adds days to (each_day and own).
  const incremental = new Set<string>();
  for (const name of order) {
    const m = spec.models[name]!;
    const text = sql.models.get(name) ?? "";
    const reads = dayReads(text);
    const refs = deps.get(name)?.refs ?? [];
    const readsAsOf = refs.filter((r) => asOf.has(r));
    const readsIncremental = refs.filter((r) => incremental.has(r));
    if (readsIncremental.length) reasons.push(`model ${name} reads incremental model ${readsIncremental.join(", ")}`);
    if (generated.history.has(name) || typeof m.materialized === "object") incremental.add(name);
    if (generated.history.has(name)) {
      models.set(name, { kind: "own" });
    } else if (generated.current.has(name) && Object.keys(m.columns).every((c) => PLAIN_NAME.test(c))) {
      models.set(name, { kind: "as_of", rangeSql: generated.current.get(name)!, columns: Object.keys(m.columns) });
      asOf.set(name, Object.keys(m.columns));
    } else if (typeof m.materialized === "object") {
      models.set(name, { kind: "each_day", partitionColumn: m.materialized.partitionColumn });
      if (reads.self) reasons.push(`model ${name} reads its own earlier rows (this)`);
    } else if (!reads.day && readsAsOf.length === 0) {
      models.set(name, { kind: "static" });
    } else {
      const projection = rowWiseForm(text, deps.get(name), asOf);
      if (!projection || reads.day || reads.self) {
        models.set(name, { kind: "static" });
        reasons.push(`model ${name} (a ${m.materialized ?? "view"}) reads the report day but is neither incremental nor row by row from one dimension as of the day`);
      } else if (m.layer === "marts") {
        models.set(name, { kind: "static" });
        reasons.push(`mart ${name} is a dimension as of the report day`);
      } else {
        models.set(name, { kind: "as_of", ...projection });
        asOf.set(name, projection.columns);
      }
    }
  }
  for (const [name, m] of Object.entries(spec.models)) {
    for (const [column, doc] of Object.entries(m.columns)) {
      for (const t of doc.tests ?? []) {
        if (typeof t !== "object" || !("relationships" in t)) continue;
        const parent = spec.models[t.relationships.to];
        if (parent && typeof parent.materialized === "object") {
          reasons.push(`the relationships test on ${name}.${column} checks against incremental model ${t.relationships.to}`);
        }
      }
    }
  }
  for (const [name, text] of sql.tests) {
    const reads = dayReads(text);
    const readsIncremental = (testDeps.get(name)?.refs ?? []).filter((r) => incremental.has(r));
    if (readsIncremental.length) reasons.push(`test ${name} reads incremental model ${readsIncremental.join(", ")}`);
    if (reads.day || (testDeps.get(name)?.refs ?? []).some((r) => asOf.has(r))) eachDayTests.add(name);
  }
  const ok = reasons.length ? { ok: false as const, reason: [...new Set(reasons)].join("; ") } : { ok: true as const };
  return { ok, models, eachDayTests };
}

/**
 * The range form of a model whose rows each come from one row of a dimension as of the day (and
 * which selects only from it): its own SQL with the days each row holds on added to the select
 * list; or null. `select *` carries them already.
 */
function rowWiseForm(text: string, d: SqlDeps | undefined, asOf: ReadonlyMap<string, string[]>): { rangeSql: string; columns: string[] } | null {
  const queries = d?.queries ?? [];
  const q = queries[0];
  if (!q || !q.rowWise || queries.some((o) => o?.relation !== q.relation || !o.rowWise)) return null;
  const model = q.relation.startsWith("__ref__") ? q.relation.slice("__ref__".length) : null;
  if (!model || !asOf.has(model)) return null;
  const formatted = formatDbtSql(text);
  if (q.projections.length === 1 && q.projections[0]!.name === null && /^select\s+\*\s+from\b/i.test(formatted.trim())) {
    return { rangeSql: formatted, columns: asOf.get(model)! };
  }
  // Named plainly (the range build lists them unquoted), and not as the columns it adds.
  const plain = (n: string | null) => n !== null && PLAIN_NAME.test(n) && n !== "dagspec_from" && n !== "dagspec_to";
  if (!q.projections.every((p) => plain(p.name))) return null;
  // The formatter puts the query's one FROM on a line of its own (no subquery can hold another).
  const from = [...formatted.matchAll(/^from$/gm)];
  if (from.length !== 1) return null;
  const at = from[0]!.index!;
  const rangeSql = `${formatted.slice(0, at).trimEnd()},\n    dagspec_from,\n    dagspec_to\n${formatted.slice(at)}`;
  return { rangeSql, columns: q.projections.map((p) => p.name!) };
}
