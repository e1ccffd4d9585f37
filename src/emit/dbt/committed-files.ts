/**
 * macros/dagspec_committed_files.sql: which of the lake's Parquet files a DuckDB build reads.
 *
 * A folder of the lake can hold files no reader may see: on S3 a day being re-extracted uploads its
 * new (content-named) files into `raw/<table>/ds=<day>/` before the day record commits them, and the
 * superseded ones are deleted only after; an aborted extract can leave its uploads behind. The day
 * record `_days/ds=<day>.json` (dagspec_runtime.manifest) is the commit point, so the sources read
 * exactly the files the committed records list, never a glob of the folders.
 *
 * How: an on-run-start hook reads the records (and, for days written before day records existed,
 * each partition's `_manifest.json` without a `committed_by` field: one with it waits for its
 * day's record, and without that record is not committed) with DuckDB and defines a DuckDB macro
 * in the raw schema, `committed_files('<table>')`, returning that table's list of files; each source's
 * external_location is `read_parquet("<raw schema>".committed_files('<table>'), ...)`. Nothing of
 * it is known when dbt parses, so one parse still serves every day. Why a macro: DuckDB's table
 * functions take constant arguments only (no subquery), and variables (`SET VARIABLE`) belong to one
 * connection, while dbt-duckdb opens one per thread; a macro is in the catalog, seen by all of them.
 */
import type { PipelineIR } from "../../ir/types.ts";
import { fillLayout } from "../../ir/names.ts";

/** The DuckDB macro the hook defines in the sources' schema (called in their external_location). */
export const COMMITTED_FILES = "committed_files";

/** The runtime's commit records (dagspec_runtime.manifest: DAYS_DIR, day_record_path, MANIFEST_NAME). */
const DAY_RECORDS = "_days/ds=*.json";
const PARTITION_MANIFEST = "_manifest.json";
/** The field of a partition manifest written to be committed by a day record (manifest.COMMITTED_BY). */
const COMMITTED_BY = "committed_by";

export function committedFilesMacro(ir: PipelineIR): string {
  const partitions = fillLayout(ir.names.rawPartition, { table: "*", ds: "*" });
  // The partition folder of a (source_table, ds) row, as a DuckDB string expression.
  const relFolder = `'/${fillLayout(ir.names.rawPartition, { table: "' || source_table || '", ds: "' || ds || '" })}'`.replace(/ \|\| ''$/, "");
  const folder = relFolder.replace(/^'/, "'{{ lake }}");
  return `{#
    The lake's committed files, defined at the start of every run (on-run-start in dbt_project.yml)
    as the DuckDB macro "<raw schema>".${COMMITTED_FILES}('<table>') that the sources' external_location
    reads: the files each day's record ${DAY_RECORDS} lists (the day's commit point), and for days
    extracted before day records existed, those of the partition's own ${PARTITION_MANIFEST} (only one
    without "${COMMITTED_BY}": a manifest with it is committed by its day's record alone, so a partition
    swapped in by an extract killed before it wrote the record is not read). Files in a
    partition folder that no committed record lists (an extract's uploads before its commit, or the
    files it replaced, until they are deleted) are never read.
#}
{% macro dagspec_committed_files() -%}
    {{- return(adapter.dispatch('dagspec_committed_files')()) -}}
{%- endmacro %}

{#- PostgreSQL reads the raw schema, which the DAG's load_raw fills from the committed partitions. -#}
{% macro default__dagspec_committed_files() -%}
{%- endmacro %}

{% macro duckdb__dagspec_committed_files() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set lake = env_var('${ir.names.env.lakeUri}', 'lake') | replace("'", "''") -%}
    {#- A partition's own manifest is read only for a day without a record (and used only if legacy). -#}
    {%- set listing -%}
        with days as (
            select file from glob('{{ lake }}/${DAY_RECORDS}')
        )
        select 'day' as kind, file from days
        union all
        select 'partition' as kind, file from glob('{{ lake }}/${partitions}/${PARTITION_MANIFEST}')
        where regexp_extract(file, '/ds=([^/]*)/[^/]*$', 1) not in (select regexp_extract(file, '/ds=([^/]*)[.]json$', 1) from days)
        order by file
    {%- endset -%}
    {%- set listed = run_query(listing).rows -%}
    {%- set committed = [] -%}
    {%- if listed | length > 0 -%}
        {%- set query -%}
            with listed (kind, filename) as (
                values
                {%- for row in listed %}
                    ('{{ row[0] }}', '{{ row[1] | replace("'", "''") }}'){{ "," if not loop.last }}
                {%- endfor %}
            ),
            documents as (
                select
                    listed.kind,
                    listed.filename,
                    read_text.content
                from
                    read_text([
                        {%- for row in listed -%}
                            '{{ row[1] | replace("'", "''") }}'{{ ", " if not loop.last }}
                        {%- endfor -%}
                    ]) as read_text
                    join listed using (filename)
            ),
            days as (
                select
                    filename,
                    cast(content as json) as doc
                from
                    documents
                where
                    kind = 'day'
            ),
            -- A partition's own manifest counts only for a day without a record (written before
            -- day records existed); where the day has one, the record says which files are the day's.
            partitions as (
                select
                    filename,
                    cast(content as json) as doc
                from
                    documents
                where
                    kind = 'partition'
                    and regexp_extract(filename, '/ds=([^/]*)/[^/]*$', 1) not in (select doc ->> 'ds' from days)
                    -- and only a legacy one: a manifest marked ${COMMITTED_BY} is committed by its day's
                    -- record alone, so without the record (an extract killed before writing it) it is not.
                    and (doc -> '${COMMITTED_BY}') is null
            ),
            day_tables as (
                select
                    doc ->> 'ds' as ds,
                    unnest(json_keys(doc -> 'tables')) as source_table,
                    doc -> 'tables' as tables
                from
                    days
                where
                    case
                        when (doc ->> 'format_version') = '1' and ends_with(filename, '/ds=' || (doc ->> 'ds') || '.json')
                            then true
                        else error(filename || ': not a day record of its day in format 1')
                    end
            ),
            committed as (
                select
                    source_table,
                    ds,
                    unnest(json_extract_string(tables -> source_table -> 'files', '$[*].path')) as path
                from
                    day_tables
                union all
                select
                    source_table,
                    ds,
                    unnest(json_extract_string(doc -> 'files', '$[*].path')) as path
                from
                    (select filename, doc, doc ->> 'table' as source_table, doc ->> 'ds' as ds from partitions)
                where
                    case
                        when (doc ->> 'format_version') = '1' and ends_with(filename, ${relFolder} || '/${PARTITION_MANIFEST}')
                            then true
                        else error(filename || ': not the manifest of its partition in format 1')
                    end
            )
            select
                source_table,
                -- The list as a SQL literal, each file quoted.
                '[' || string_agg(
                    '''' || replace(${folder} || '/' || path, '''', '''''') || '''',
                    ', '
                    order by ds, path
                ) || ']' as files
            from
                committed
            group by
                source_table
            order by
                source_table
        {%- endset -%}
        {%- set committed = run_query(query).rows -%}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    {%- for schema in schemas %}
create schema if not exists "{{ schema | replace('"', '""') }}";
create or replace macro "{{ schema | replace('"', '""') }}".${COMMITTED_FILES}(source_table) as
    {%- if committed %}
    case source_table
        {%- for row in committed %}
        when '{{ row[0] | replace("'", "''") }}' then {{ row[1] }}
        {%- endfor %}
        else error('the lake {{ lake }} commits no partition of ' || source_table)
    end;
    {%- else %}
    error('the lake {{ lake }} commits no partition of ' || source_table);
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
`;
}
