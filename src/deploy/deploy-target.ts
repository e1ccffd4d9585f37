/**
 * What every deploy backend implements. In a module of its own so the backends (folder.ts, s3.ts)
 * and the factory that picks one (target.ts) do not import each other.
 */
import type { Bundle } from "./bundle.ts";
import type { DeployManifest } from "./manifest.ts";

export interface DeployResult {
  target: string;
  releaseId: string;
  /** Deployed paths written by this deploy (new or changed). */
  uploaded: string[];
  /** Deployed paths removed (their pipeline left the repo, or the file did). */
  deleted: string[];
  /** Nothing to do: the target already held exactly this build. */
  unchanged: boolean;
  manifest: DeployManifest;
}

/** The target refused or failed; `hint` says what to do when the generic advice would be wrong. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface DeployTarget {
  /** Printable, no credentials. */
  readonly label: string;
  /** Whether the target can take a deployment at all, asked before the specs are compiled. */
  check?(): Promise<void>;
  deploy(bundle: Bundle, onProgress?: (done: number, total: number) => void): Promise<DeployResult>;
  /** The manifest of what is deployed, or null when nothing is. */
  readManifest(): Promise<DeployManifest | null>;
}
