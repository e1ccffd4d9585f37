/**
 * Dimensions kept as a history (`extract: { mode: "history", cursor }`): the checks, and the two dbt
 * models the compiler writes for each such table.
 *
 * The lake holds, per report day D, the rows whose cursor is at or after the start of D as the day's
 * extract saw them (or the whole table when the day before has no partition: a base). From that:
 * - `<table>_history` (incremental): one row per version (key, cursor value) with `valid_from`,
 *   `valid_to` and `is_current`. A run merges its day's partition and recomputes the validity of
 *   every key it touches from all the versions merged so far, so a day re-run, or backfilled after
 *   later days, merges into the same history: nothing is keyed on the order days arrive in.
 * - `<table>_current` (view): the rows as of D, read from the lake rather than from the history, so
 *   it never depends on which days' dbt runs happened (parallel backfills run them out of order):
 *   each key's newest version among the partitions up to D. Partition D holds every row changed
 *   since D began as D's extract saw it, and each earlier one what its own extract saw, so this is
 *   exactly the table a snapshot taken by D's run would hold (less rows deleted in the source).
 *   When an old day is extracted again, its partition holds today's versions of the rows changed
 *   since; a later day re-run then sees those rows as a snapshot taken today would (that is what
 *   re-running a snapshot day does too): dropping them instead would drop rows that existed.
 */
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";

type Table = CheckedSpec["source"]["tables"][string];
type SpecModel = CheckedSpec["models"][string];

/** Columns the history model adds next to the table's own. */
export const HISTORY_COLUMNS = ["valid_from", "valid_to", "is_current", "first_seen_ds"] as const;

export const historyModelName = (table: string) => `${table}_history`;
export const currentModelName = (table: string) => `${table}_current`;

export function historyTables(spec: CheckedSpec): [string, Table & { extract: { mode: "history"; cursor: string } }][] {
  return Object.entries(spec.source.tables).filter((e): e is [string, Table & { extract: { mode: "history"; cursor: string } }] => e[1].extract.mode === "history");
}

export function checkHistoryTables(spec: CheckedSpec, report: Reporter): void {
  for (const [name, t] of historyTables(spec)) {
    const base = ["source", "tables", name];
    const cursor = t.extract.cursor;
    const type = Object.hasOwn(t.columns, cursor) ? t.columns[cursor] : undefined;
    if (!type) report.error("DS1216", [...base, "extract", "cursor"], `cursor '${cursor}' is not declared in ${name}.columns`, `declare it, e.g. ${cursor}: "timestamptz"`);
    else if (type !== "timestamptz")
      report.error(
        "DS1222",
        [...base, "extract", "cursor"],
        `cursor '${cursor}' is ${type}; a history table's change cursor must be timestamptz`,
        "name the timestamptz column the application sets on every insert and update (e.g. updated_at)",
      );
    if (t.primaryKey.includes(cursor))
      report.error("DS1222", [...base, "extract", "cursor"], `cursor '${cursor}' is part of ${name}'s primary key`, "the cursor changes with every update; the key names the row across versions");
    for (const c of HISTORY_COLUMNS)
      if (Object.hasOwn(t.columns, c))
        report.error("DS1224", [...base, "columns", c], `${name} declares a column '${c}', which ${historyModelName(name)} adds itself`, `rename it in the extract's columns, or keep ${name} as { mode: "snapshot" }`);
    for (const model of [historyModelName(name), currentModelName(name)])
      if (Object.hasOwn(spec.models, model))
        report.error("DS1224", ["models", model], `model '${model}' has the name the compiler gives to ${name}'s history`, `rename the model; ${name} is kept as a history (source.tables.${name}.extract)`);
  }
  const kept = historyTables(spec).map(([name]) => name);
  if (kept.length && spec.schedule.reportLagDays < 1)
    report.error(
      "DS1223",
      ["schedule", "reportLagDays"],
      `${kept.join(", ")} ${kept.length > 1 ? "are" : "is"} kept as a history, but runs report on their own day (reportLagDays is 0)`,
      "a run must start after its report day has ended, or rows changed later that day would be missed; set reportLagDays to 1 or keep the table as a snapshot",
    );
}

/** Models that read a history table through source() see its raw change partitions: refused. */
export function checkHistorySourceReads(spec: CheckedSpec, owner: { kind: "model" | "test"; name: string }, sources: readonly string[], path: (string | number)[], report: Reporter): void {
  for (const table of sources) {
    const t = spec.source.tables[table];
    if (t?.extract.mode !== "history") continue;
    report.error(
      "DS1225",
      path,
      `${owner.kind} ${owner.name} reads source('${spec.source.name}', '${table}'), whose partitions hold only changed rows (${table} is kept as a history)`,
      `read q.current("${table}") for the rows as of the report day, or ref('${historyModelName(table)}') for every version`,
    );
  }
}

const list = (cols: readonly string[]) => cols.join(", ");

function historySql(sourceName: string, table: string, t: Table & { extract: { cursor: string } }): string {
  const cols = Object.keys(t.columns);
  const key = t.primaryKey;
  const cursor = t.extract.cursor;
  const src = `{{ source('${sourceName}', '${table}') }}`;
  const sameKey = key.map((k) => `e.${k} = h.${k}`).join(" and ");
  return `
-- Every version of ${t.schema}.${table} the lake holds, one row per (${list(key)}, ${cursor}).
-- A run merges its report day's partition (a range build: its days' partitions; the first build:
-- every partition up to it) together with the versions already merged for the keys it touches, and
-- rewrites those keys' validity ranges.
with
    extracted as (
        select ${list(cols)}, ds, 1 as dagspec_priority
        from ${src}
        where ds <= '{{ var("ds") }}' {% if is_incremental() %} and ds >= '{{ dagspec_days()[0] }}' {% endif %}
    ),
    merged as (
        select * from extracted
        {% if is_incremental() %}
        union all
        select ${list(cols)}, first_seen_ds as ds, 2 as dagspec_priority
        from {{ this }} as h
        where exists (select 1 from extracted as e where ${sameKey})
        {% endif %}
    ),
    versions as (
        select
            ${list(cols)},
            min(ds) over (partition by ${list(key)}, ${cursor}) as first_seen_ds,
            row_number() over (partition by ${list(key)}, ${cursor} order by dagspec_priority, ds desc) as dagspec_copy
        from merged
    )
select
    ${list(cols)},
    ${cursor} as valid_from,
    lead(${cursor}) over (partition by ${list(key)} order by ${cursor}) as valid_to,
    lead(${cursor}) over (partition by ${list(key)} order by ${cursor}) is null as is_current,
    first_seen_ds
from versions
where dagspec_copy = 1
`;
}

function currentSql(sourceName: string, table: string, t: Table & { extract: { cursor: string } }): string {
  const cols = Object.keys(t.columns);
  const cursor = t.extract.cursor;
  return `
-- ${t.schema}.${table} as of the report day: each key's newest version among the partitions up to
-- that day's (which holds every row changed since the day began, as that day's extract saw it).
select ${list(cols)}
from (
    select
        ${list(cols)},
        row_number() over (partition by ${list(t.primaryKey)} order by ${cursor} desc nulls last, ds desc) as dagspec_newest
    from {{ source('${sourceName}', '${table}') }}
    where ds <= '{{ var("ds") }}'
) as versions
where dagspec_newest = 1
`;
}

/**
 * \`<table>_current\` in a range build (\`check/range-build.ts\`): each version that is the newest as of
 * some day of the range, once, with those days: from the day of the partition it is newest in
 * (\`dagspec_from\`) to the key's next partition (\`dagspec_to\`, exclusive; null: still newest). The
 * newest as of a day is the daily form's: the greatest \`(cursor, ds)\` among the partitions up to it.
 */
export function currentRangeSql(sourceName: string, table: string, t: Table & { extract: { cursor: string } }): string {
  const cols = Object.keys(t.columns);
  const key = list(t.primaryKey);
  const cursor = t.extract.cursor;
  const sameKey = t.primaryKey.map((k) => `v.${k} = n.${k}`).join(" and ");
  return `
with
    versions as (
        select
            ${list(cols)},
            ds,
            row_number() over (partition by ${key} order by ${cursor} asc nulls first, ds asc) as dagspec_rank
        from {{ source('${sourceName}', '${table}') }}
        where ds <= '{{ var("ds") }}'
    ),
    newest as (
        select
            ${key},
            ds as dagspec_from,
            lead(ds) over (partition by ${key} order by ds) as dagspec_to,
            max(max(dagspec_rank)) over (partition by ${key} order by ds rows between unbounded preceding and current row) as dagspec_rank
        from versions
        group by ${key}, ds
    )
select ${cols.map((c) => `v.${c}`).join(", ")}, n.dagspec_from, n.dagspec_to
from newest as n
join versions as v on ${sameKey} and v.dagspec_rank = n.dagspec_rank
where n.dagspec_to is null or n.dagspec_to > '{{ dagspec_days()[0] }}'
`;
}

export interface GeneratedModel {
  name: string;
  model: SpecModel;
  sql: string;
  sources: string[];
  /** The type of each column the SQL above selects (`model.columns`), and where it comes from, when declared. */
  types: Record<string, { type: string; origin: string }>;
  /** The SQL of a range build, for a \`<table>_current\`; null: the SQL above takes a range itself. */
  rangeSql: string | null;
}

/** The models each history table gets, in the spec's model form (all defaults applied). */
export function historyModels(spec: CheckedSpec): GeneratedModel[] {
  const out: GeneratedModel[] = [];
  for (const [table, t] of historyTables(spec)) {
    const cols = Object.keys(t.columns);
    const doc = (c: string) => ({ description: c === t.extract.cursor ? `${c} of the version (its change cursor).` : undefined });
    const tableCols = Object.fromEntries(cols.map((c) => [c, doc(c)]));
    const tableTypes = Object.fromEntries(cols.map((c) => [c, { type: t.columns[c] as string, origin: `source.tables.${table}.columns.${c}` }]));
    const cursor = Object.hasOwn(t.columns, t.extract.cursor) ? tableTypes[t.extract.cursor] : undefined;
    const added = (type: string) => ({ type, origin: `the column ${historyModelName(table)} adds` });
    out.push({
      name: historyModelName(table),
      sources: [table],
      sql: historySql(spec.source.name, table, t),
      model: {
        layer: "staging",
        description: `Every version of ${t.schema}.${table} seen by the daily extracts (SCD type 2), merged from the changed rows.`,
        sql: "",
        materialized: { kind: "incremental", uniqueKey: [...t.primaryKey], partitionColumn: "first_seen_ds" },
        columns: {
          ...tableCols,
          valid_from: { description: `When this version began: its ${t.extract.cursor}.` },
          valid_to: { description: "When the next version began; null for the current one." },
          is_current: { description: "True for each key's newest version." },
          first_seen_ds: { description: "The first report day whose extract held this version." },
        },
      },
      types: { ...tableTypes, ...(cursor ? { valid_from: cursor, valid_to: cursor } : {}), is_current: added("boolean"), first_seen_ds: added("date") },
      rangeSql: null,
    });
    out.push({
      name: currentModelName(table),
      sources: [table],
      sql: currentSql(spec.source.name, table, t),
      rangeSql: currentRangeSql(spec.source.name, table, t),
      model: {
        layer: "staging",
        description: `${t.schema}.${table} as of the report day, as a snapshot taken by that day's extract would hold it.`,
        sql: "",
        materialized: "view",
        columns: tableCols,
      },
      types: tableTypes,
    });
  }
  return out;
}
