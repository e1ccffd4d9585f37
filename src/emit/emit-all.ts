/** Every emitter over every pipeline: one map of repository paths (under generated/) to text. */
import type { PipelineIR } from "../ir/types.ts";
import { emitDag } from "./airflow/emit-dag.ts";
import { emitDbt } from "./dbt/emit-dbt.ts";
import { byCodePoint } from "../util/code-point-order.ts";

export function emitAll(pipelines: readonly PipelineIR[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const ir of [...pipelines].sort((a, b) => byCodePoint(a.id, b.id))) {
    files.set(`dags/${ir.id}.py`, emitDag(ir));
    for (const [path, text] of emitDbt(ir)) files.set(path, text);
  }
  // The dag-processor should not try to import anything but DAG files from the dags folder.
  return new Map([...files].sort(([a], [b]) => byCodePoint(a, b)));
}
