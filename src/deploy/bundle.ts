/**
 * What a deployment installs: the build's in-memory file map (dags/, dbt/, the same map `gen build`
 * writes) plus, from this dagspec's own tree, the plugins folder (the dbt docs plugin) and the
 * runtime package the generated DAGs import (`runtime/`: pyproject and sources, installed with
 * `pip install --no-deps <folder>/runtime`), so the runtime deployed is always the one of the
 * compiler that generated the DAGs. A DAG imported next to another runtime version fails with the
 * contract's versioned message.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PipelineIR } from "../ir/types.ts";
import { listFiles } from "../build/output.ts";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** This package's folders a deployment carries, and under which folder each is deployed. */
export const RUNTIME_SOURCES: readonly { source: string; prefix: string }[] = [
  { source: join(PACKAGE_ROOT, "airflow/plugins"), prefix: "plugins/" },
  { source: join(PACKAGE_ROOT, "airflow/runtime"), prefix: "runtime/" },
];

export interface Bundle {
  /** Deployed path -> content: `dags/<id>.py`, `dbt/<id>/...`, `plugins/...`. Sorted. */
  files: Map<string, Buffer>;
  pipelines: { id: string; specFile: string; specHash: string }[];
  dagspecVersion: string;
}

export function dagspecVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** Build leftovers of a local `pip install`, never part of the runtime's sources. */
const NOT_SOURCE = /(^|\/)(__pycache__|build|[^/]*\.egg-info)\/|\.pyc$/;

export function runtimeFiles(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const { source, prefix } of RUNTIME_SOURCES) {
    for (const rel of listFiles(source)) {
      if (NOT_SOURCE.test(rel)) continue;
      out.set(`${prefix}${rel}`, readFileSync(join(source, rel)));
    }
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
