/**
 * Deploy targets: one class per backend (a folder, an S3 prefix), picked here from `--to`, so no
 * other code asks which kind it has.
 */
import { resolve } from "node:path";
import type { DeployTarget } from "./deploy-target.ts";
import { FolderTarget } from "./folder.ts";
import { S3Target, parseS3Url } from "./s3.ts";

export class TargetError extends Error {}

export type { DeployResult, DeployTarget } from "./deploy-target.ts";

export function openTarget(to: string, cwd: string, env: NodeJS.ProcessEnv = process.env): DeployTarget {
  if (to.startsWith("s3://")) return new S3Target(parseS3Url(to), env);
  if (to === "docker") {
    // The dockerised stack bakes generated/ into its image (airflow/Dockerfile): deploying to it is
    // rebuilding that image, which `gen airflow up --docker` does; a second way would drift from it.
    throw new TargetError("--to docker: the dockerised stack runs the DAGs baked into its image; run `gen build && gen airflow up --docker` to rebuild and restart it with this build");
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw new TargetError(`--to ${to}: only a folder or s3://bucket/prefix can be deployed to`);
  return new FolderTarget(resolve(cwd, to));
}
