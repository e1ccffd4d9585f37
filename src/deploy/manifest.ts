/**
 * The deploy manifest: what one deployment holds (every file's sha256, every pipeline's spec hash,
 * the dagspec version). Written last, it is the commit point of a deployment: `gen status` and the
 * next `gen deploy` trust it, and a deploy only ever deletes what a manifest says dagspec put there.
 * Deterministic JSON (sorted, no timestamp), so the same build gives the same manifest and release id.
 */
import { createHash } from "node:crypto";
import type { Bundle } from "./bundle.ts";
import { pipelineOf } from "./bundle.ts";

export const MANIFEST_FORMAT = 1;
/** Where the manifest sits relative to a deployment's root (folder or S3 prefix). */
export const MANIFEST_PATH = ".dagspec/manifest.json";

export interface PipelineEntry {
  specFile: string;
  specHash: string;
  files: string[];
}

export interface DeployManifest {
  format: number;
  dagspecVersion: string;
  /** sha256 over the sorted (path, file hash) list, 16 hex digits: same content, same id. */
  releaseId: string;
  pipelines: Record<string, PipelineEntry>;
  /** Files that belong to no pipeline: the runtime. */
  runtime: string[];
  /** Deployed path -> sha256 hex. */
  files: Record<string, string>;
}

export const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

export function makeManifest(bundle: Bundle): DeployManifest {
  const files: Record<string, string> = {};
  const release = createHash("sha256");
  for (const [p, b] of bundle.files) {
    files[p] = sha256(b);
    release.update(`${p}\0${files[p]}\n`);
  }
  const pipelines: Record<string, PipelineEntry> = {};
  for (const p of bundle.pipelines) pipelines[p.id] = { specFile: p.specFile, specHash: p.specHash, files: [] };
  const runtime: string[] = [];
  for (const p of bundle.files.keys()) {
    const id = pipelineOf(p);
    if (id && pipelines[id]) pipelines[id].files.push(p);
    else runtime.push(p);
  }
  return { format: MANIFEST_FORMAT, dagspecVersion: bundle.dagspecVersion, releaseId: release.digest("hex").slice(0, 16), pipelines, runtime, files };
}

export function serializeManifest(m: DeployManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export class ManifestError extends Error {}

export function parseManifest(text: string, where: string): DeployManifest {
  let m: DeployManifest;
  try {
    m = JSON.parse(text) as DeployManifest;
  } catch {
    throw new ManifestError(`${where} is not valid JSON`);
  }
  if (m.format !== MANIFEST_FORMAT) {
    throw new ManifestError(`${where} has format ${String(m.format)}; this dagspec (${MANIFEST_FORMAT}) does not know it: upgrade dagspec`);
  }
  return m;
}

/** Deployed files of a manifest, DAG files last: uploading them last means no DAG appears before its dbt project. */
export function dagsLast(paths: Iterable<string>): string[] {
  const xs = [...paths].sort();
  return [...xs.filter((p) => !p.startsWith("dags/")), ...xs.filter((p) => p.startsWith("dags/"))];
}
