/**
 * A pipeline's generated file holds two DAGs: `<id>` and its one-pass backfill `<id>__backfill`.
 * An id ending with the suffix is refused (DS1229): it is, or could later become, another
 * pipeline's backfill DAG, and Airflow keeps one of two DAGs with the same id (which one depends on
 * parse order). Refusing the suffix itself, not only a clash with a pipeline built with it, keeps
 * the check within one spec and its verdict independent of which other specs are in the folder.
 */
import { BACKFILL_DAG_SUFFIX } from "../ir/names.ts";
import type { CheckedSpec } from "../spec/schema.ts";
import type { Reporter } from "./context.ts";

export function checkDagIds(spec: CheckedSpec, report: Reporter): void {
  if (!spec.id.endsWith(BACKFILL_DAG_SUFFIX)) return;
  const owner = spec.id.slice(0, -BACKFILL_DAG_SUFFIX.length);
  report.error(
    "DS1229",
    ["id"],
    `pipeline id '${spec.id}' ends with '${BACKFILL_DAG_SUFFIX}': it is the dag_id of the backfill DAG generated for a pipeline '${owner}'`,
  );
}
