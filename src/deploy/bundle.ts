/**
 * What a deployment installs: the build's in-memory file map (dags/, dbt/, the same map `gen build`
 * writes) plus the runtime the generated DAGs import, from this dagspec's own airflow/plugins, so
 * the runtime deployed is always the one of the compiler that generated the DAGs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PipelineIR } from "../ir/types.ts";
import { listFiles } from "../build/output.ts";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the runtime lives in this package, and under which folder it is deployed. */
export const RUNTIME_SOURCE = join(PACKAGE_ROOT, "airflow/plugins");
export const RUNTIME_PREFIX = "plugins/";

export interface Bundle {
  /** Deployed path -> content: `dags/<id>.py`, `dbt/<id>/...`, `plugins/...`. Sorted. */
  files: Map<string, Buffer>;
  pipelines: { id: string; specFile: string; specHash: string }[];
  dagspecVersion: string;
}

export function dagspecVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

export function runtimeFiles(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of listFiles(RUNTIME_SOURCE)) {
    if (rel.endsWith(".pyc")) continue;
    out.set(`${RUNTIME_PREFIX}${rel}`, readFileSync(join(RUNTIME_SOURCE, rel)));
  }
  return out;
}

export function makeBundle(built: ReadonlyMap<string, string>, pipelines: readonly PipelineIR[]): Bundle {
  const all = new Map<string, Buffer>([...built].map(([p, t]) => [p, Buffer.from(t, "utf8")]));
  for (const [p, b] of runtimeFiles()) all.set(p, b);
  const files = new Map([...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    files,
    pipelines: pipelines.map((p) => ({ id: p.id, specFile: p.specFile, specHash: p.specHash })).sort((a, b) => a.id.localeCompare(b.id)),
    dagspecVersion: dagspecVersion(),
  };
}

/** Which pipeline a deployed path belongs to (`dags/<id>.py`, `dbt/<id>/...`); null for the runtime. */
export function pipelineOf(path: string): string | null {
  const dag = /^dags\/([^/]+)\.py$/.exec(path);
  if (dag) return dag[1]!;
  const dbt = /^dbt\/([^/]+)\//.exec(path);
  return dbt ? dbt[1]! : null;
}
