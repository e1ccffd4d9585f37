/**
 * What the repo builds against what a target holds, per pipeline: current, stale (deployed from
 * another spec, or other generated files), missing (in the repo, not deployed) or orphaned (deployed,
 * no longer in the repo). Pure: both sides are deploy manifests.
 */
import type { DeployManifest } from "../deploy/manifest.ts";

export type State = "current" | "stale" | "missing" | "orphaned";

export interface PipelineState {
  id: string;
  state: State;
  repoSpecHash: string | null;
  deployedSpecHash: string | null;
  /** Why it is not current, and what to do. */
  reason: string | null;
}

export interface DeploymentStatus {
  pipelines: PipelineState[];
  /** The runtime package (runtime/) and plugins (plugins/) deployed with the DAGs. */
  runtime: "current" | "stale" | "missing";
}

function filesOf(m: DeployManifest, paths: readonly string[]): string {
  return paths.map((p) => `${p}\0${m.files[p]}`).sort().join("\n");
}

export function compareDeployment(repo: DeployManifest, deployed: DeployManifest | null): DeploymentStatus {
  const ids = [...new Set([...Object.keys(repo.pipelines), ...Object.keys(deployed?.pipelines ?? {})])].sort();
  const pipelines = ids.map((id): PipelineState => {
    const r = repo.pipelines[id];
    const d = deployed?.pipelines[id];
    const base = { id, repoSpecHash: r?.specHash ?? null, deployedSpecHash: d?.specHash ?? null };
    if (r && !d) return { ...base, state: "missing", reason: "in the repo, not deployed: run gen deploy" };
    if (!r && d) return { ...base, state: "orphaned", reason: `deployed from ${d.specFile}, which the repo no longer has: gen deploy removes it` };
    if (r!.specHash !== d!.specHash) return { ...base, state: "stale", reason: "the spec changed since it was deployed: run gen deploy" };
    if (filesOf(repo, r!.files) !== filesOf(deployed!, d!.files)) {
      return { ...base, state: "stale", reason: `same spec, other generated files (deployed by dagspec ${deployed!.dagspecVersion}): run gen deploy` };
    }
    return { ...base, state: "current", reason: null };
  });
  const runtime = !deployed ? "missing" : filesOf(repo, repo.runtime) === filesOf(deployed, deployed.runtime) ? "current" : "stale";
  return { pipelines, runtime };
}
