/**
 * The dbt side of a range build (`check/range-build.ts` says which models and tests take which
 * form): one `dbt build` with `--vars '{"ds": <last day>, "dagspec_first_day": <first day>}'` gates
 * every day of a backfill's range, each day as its own build would. A daily build (no
 * `dagspec_first_day`) compiles to exactly the SQL it always did.
 */
import type { ModelIR, PipelineIR, SingularTestIR } from "../../ir/types.ts";
import { isDayVar, refOf, scanJinja } from "../../sql/jinja.ts";
import { DAY_PLACEHOLDER } from "./schema-files.ts";

/** The models that are dimensions as of the report day, with their columns. */
export const asOfModels = (ir: PipelineIR): [string, string[]][] =>
  ir.models.flatMap((m) => (m.rangeForm.kind === "as_of" ? [[m.name, m.rangeForm.columns] as [string, string[]]] : []));

/**
 * `sql` with the day of the call block (`day`) where it reads `var('ds')`, and each dimension as of
 * the day selected for that day (`dagspec_as_of_day`).
 */
function perDay(sql: string, asOf: ReadonlySet<string>): string {
  const scan = scanJinja(sql);
  if (!scan.ok) throw new Error(`generated SQL has unbalanced Jinja: ${scan.message}`);
  let out = "";
  let at = 0;
  for (const tok of scan.tokens) {
    if (tok.kind !== "expr") continue;
    const ref = refOf(tok);
    const model = ref?.kind === "ref" ? ref.args[0] : undefined;
    const replacement = isDayVar(tok.body)
      ? "{{ day }}"
      : model !== undefined && asOf.has(model)
        ? `{{ dagspec_as_of_day('${model}', day) }}`
        : undefined;
    if (replacement === undefined) continue;
    out += sql.slice(at, tok.start) + replacement;
    at = tok.end;
  }
  return out + sql.slice(at);
}

/** A model's SQL file body (after the header). */
export function modelSql(m: ModelIR, asOf: ReadonlySet<string>): string {
  switch (m.rangeForm.kind) {
    case "static":
    case "own":
      return m.sql;
    case "each_day":
      return `{% call(day) dagspec_each_day(partition_column='${m.rangeForm.partitionColumn}') -%}\n${perDay(m.sql, asOf)}{%- endcall %}\n`;
    case "as_of":
      if (m.rangeForm.rangeSql === m.sql) return m.sql;
      return (
        "{% if dagspec_range_build() -%}\n" +
        "-- A range build: each row once, with the report days it holds on (dagspec_from to dagspec_to,\n" +
        "-- exclusive; null: still holds).\n" +
        `${m.rangeForm.rangeSql}{%- else -%}\n${m.sql}{%- endif %}\n`
      );
  }
}

/** A singular test's SQL (after its comments and config). */
export function singularTestSql(t: SingularTestIR, asOf: ReadonlySet<string>): string {
  return t.eachDay ? `{% call(day) dagspec_each_day() -%}\n${perDay(t.sql, asOf)}{%- endcall %}\n` : t.sql;
}

const quoted = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** macros/dagspec_range.sql: the days of a build and the forms that take them. */
export function rangeMacros(ir: PipelineIR): string {
  const can = ir.dbt.rangeBuild;
  const guard = can.ok
    ? ""
    : `
    {%- if var('dagspec_first_day', none) is not none -%}
        {{- exceptions.raise_compiler_error(${quoted(`this project cannot build a range of days (backfills gate each day with its own build): ${can.reason}`)}) -}}
    {%- endif -%}`;
  return `{#
    The report days one build gates. A daily build gates var('ds') alone. A range build (the
    backfill DAG's one dbt build for a range of days) also sets var('dagspec_first_day') and gates
    every day from it to var('ds'), each day exactly as that day's own build would:
    - an incremental model is rendered once per day (dagspec_each_day), each rendering keeping the
      rows of its own day's partition;
    - a dimension as of the report day holds each row once with the days it holds on (dagspec_from,
      dagspec_to) instead of a copy per day; dagspec_as_of_day selects one day's rows;
    - generic tests see each row with its days (get_where_subquery), and unique and relationships
      compare rows of one day (dagspec_range_tests.sql);
    - singular tests that read the day are rendered once per day.
#}
{% macro dagspec_range_build() -%}${guard}
    {{- return(var('dagspec_first_day', none) is not none) -}}
{%- endmacro %}

{#- Every day the build gates, ascending (ISO dates). -#}
{% macro dagspec_days() -%}
    {%- set last = modules.datetime.date.fromisoformat(var('ds') | string) -%}
    {%- set first = modules.datetime.date.fromisoformat(var('dagspec_first_day', var('ds')) | string) -%}
    {%- if first > last -%}
        {{- exceptions.raise_compiler_error("dagspec_first_day " ~ first ~ " is after ds " ~ last) -}}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for i in range((last - first).days + 1) -%}
        {%- do days.append((first + modules.datetime.timedelta(days=i)).isoformat()) -%}
    {%- endfor -%}
    {{- return(days) -}}
{%- endmacro %}

{#- The day after the last: the (exclusive) end of the build's days. -#}
{% macro dagspec_days_end() -%}
    {{- return((modules.datetime.date.fromisoformat(var('ds') | string) + modules.datetime.timedelta(days=1)).isoformat()) -}}
{%- endmacro %}

{#-
    The call block's body (a query of its argument, the day) for each day. A daily build: the body
    for its day, as it is. A range build: the bodies' rows unioned, with partition_column (an
    incremental model) only those of each day's own partition, which are what its daily build
    publishes; without, each row with its day (dagspec_ds).
-#}
{% macro dagspec_each_day(partition_column=none) -%}
    {%- if not dagspec_range_build() -%}
        {{- caller(dagspec_days()[0]) -}}
    {%- else -%}
        {%- for day in dagspec_days() %}
{{ "union all" if not loop.first }}
select {{ "" if partition_column else "cast('" ~ day ~ "' as date) as dagspec_ds, " }}*
from (
{{ caller(day) }}
) as dagspec_day
{%- if partition_column %}
where {{ partition_column }} = cast('{{ day }}' as date)
{%- endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- A dimension as of the report day, as of \`day\`: in a range build its rows that hold on that day. -#}
{% macro dagspec_as_of_day(model_name, day) -%}
    {%- if dagspec_range_build() -%}
        (select {{ dagspec_as_of_models()[model_name] | join(', ') }} from {{ ref(model_name) }} where dagspec_from <= cast('{{ day }}' as date) and (dagspec_to is null or cast('{{ day }}' as date) < dagspec_to))
    {%- else -%}
        {{ ref(model_name) }}
    {%- endif -%}
{%- endmacro %}

{#- The models that are dimensions as of the report day, and their columns. -#}
{% macro dagspec_as_of_models() -%}
    {{- return({${asOfModels(ir).map(([n, cols]) => `${quoted(n)}: [${cols.map(quoted).join(", ")}]`).join(", ")}}) -}}
{%- endmacro %}
`;
}

/**
 * macros/get_where_subquery.sql: dbt's own, with the report day put into generated tests' \`where\`
 * when the test runs, and rows placed in their days in a range build.
 */
export const WHERE_SUBQUERY = `{#
    dbt's own get_where_subquery, with the report day put into generated tests' \`where\` when the
    test runs: dbt renders test configs while it parses the project, and with the day there every
    day would need a parse of its own. This way one parse serves every day's build (dagspec_runtime's
    dbt_child reuses it).

    A range build places every row in the days whose own builds test it, as dagspec_test_from and
    dagspec_test_to (inclusive, exclusive; within the range): a row of a model partitioned by day
    (\`where: <day column> = ${DAY_PLACEHOLDER}\`) in its day, a row of a dimension as of the report day
    in the days it holds on, any other row in every day. Rows in no day of the range are left out.
#}
{% macro get_where_subquery(relation) -%}
    {%- set placeholder = "${DAY_PLACEHOLDER}" -%}
    {%- set where = config.get('where') or '' -%}
    {%- if not dagspec_range_build() -%}
        {%- set where = where | replace(placeholder, "'" ~ var('ds') ~ "'") -%}
        {%- if where -%}
            {%- set filtered -%}
                (select * from {{ relation }} where {{ where }}) dbt_subquery
            {%- endset -%}
            {%- do return(filtered) -%}
        {%- else -%}
            {%- do return(relation) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set starts = ["cast('" ~ dagspec_days()[0] ~ "' as date)"] -%}
    {%- set ends = ["cast('" ~ dagspec_days_end() ~ "' as date)"] -%}
    {%- set suffix = " = " ~ placeholder -%}
    {%- if where.endswith(suffix) -%}
        {%- set day_column = where[:(where | length) - (suffix | length)] -%}
        {%- do starts.append("cast(" ~ day_column ~ " as date)") -%}
        {%- do ends.append("cast(" ~ day_column ~ " as date) + 1") -%}
    {%- elif where -%}
        {{- exceptions.raise_compiler_error("a range build cannot place the rows of a test with where: " ~ where ~ " in days") -}}
    {%- endif -%}
    {%- if relation.identifier in dagspec_as_of_models() -%}
        {%- do starts.append("dagspec_from") -%}
        {%- do ends.append("coalesce(dagspec_to, " ~ ends[0] ~ ")") -%}
    {%- endif -%}
    {%- set first = starts[0] if starts | length == 1 else "greatest(" ~ starts | join(", ") ~ ")" -%}
    {%- set end = ends[0] if ends | length == 1 else "least(" ~ ends | join(", ") ~ ")" -%}
    {%- set placed -%}
        (select * from (select *, {{ first }} as dagspec_test_from, {{ end }} as dagspec_test_to from {{ relation }}) as dagspec_rows where dagspec_test_from < dagspec_test_to) dbt_subquery
    {%- endset -%}
    {%- do return(placed) -%}
{%- endmacro %}
`;

/** macros/dagspec_range_tests.sql: unique and relationships comparing rows of one day in a range build. */
export const RANGE_TESTS = `{#
    unique and relationships in a range build, on rows placed in their days (get_where_subquery):
    a row is compared with rows of its own days only, as each day's own build compares them. A
    daily build runs dbt's own.
#}
{% macro default__test_unique(model, column_name) -%}
    {%- if not dagspec_range_build() -%}
        {{- return(dbt.default__test_unique(model, column_name)) -}}
    {%- endif -%}
-- A value twice on one day: two of its rows whose days overlap. Sorted by their first day, some row
-- then overlaps the next one.
with
    placed as (
        select
            {{ column_name }} as unique_field,
            dagspec_test_to,
            lead(dagspec_test_from) over (
                partition by {{ column_name }}
                order by dagspec_test_from, dagspec_test_to
            ) as dagspec_next_from
        from {{ model }}
        where {{ column_name }} is not null
    )
select
    unique_field,
    dagspec_next_from as dagspec_day
from placed
where dagspec_next_from < dagspec_test_to
{%- endmacro %}

{% macro default__test_relationships(model, column_name, to, field) -%}
    {%- if not dagspec_range_build() or to.identifier not in dagspec_as_of_models() -%}
        {{- return(dbt.default__test_relationships(model, column_name, to, field)) -}}
    {%- endif -%}
-- The parent is a dimension as of the report day: on each day of a child row, its value must be
-- one of the parent's rows that hold on that day.
with
    child as (
        select
            {{ column_name }} as from_field,
            dagspec_test_from,
            dagspec_test_to
        from {{ model }}
        where {{ column_name }} is not null
    ),
    days as (
        select cast(day as date) as dagspec_day
        from (values {% for day in dagspec_days() %}('{{ day }}'){{ ", " if not loop.last }}{% endfor %}) as days (day)
    ),
    child_days as (
        select
            child.from_field,
            days.dagspec_day
        from child
        join days on days.dagspec_day >= child.dagspec_test_from and days.dagspec_day < child.dagspec_test_to
    ),
    parent as (
        select
            {{ field }} as to_field,
            dagspec_from,
            dagspec_to
        from {{ to }}
    )
select
    from_field,
    dagspec_day
from child_days
where not exists (
    select 1
    from parent
    where parent.to_field = child_days.from_field
        and parent.dagspec_from <= child_days.dagspec_day
        and (parent.dagspec_to is null or child_days.dagspec_day < parent.dagspec_to)
)
{%- endmacro %}
`;
