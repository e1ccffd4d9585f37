/**
 * Deploy targets: one class per backend (a folder, an S3 prefix, the dockerised stack), picked here
 * from `--to`, so no other code asks which kind it has.
 */
import { resolve } from "node:path";
import { TargetError, type DeployTarget } from "./deploy-target.ts";
import { DockerTarget } from "./docker.ts";
import { FolderTarget } from "./folder.ts";
import { S3Target, parseS3Url } from "./s3.ts";

export { TargetError };
export type { DeployResult, DeployTarget } from "./deploy-target.ts";

/** `say` takes the progress lines of a target whose deploy has long steps (docker: the image build). */
export function openTarget(to: string, cwd: string, env: NodeJS.ProcessEnv = process.env, say: (s: string) => void = () => {}): DeployTarget {
  if (to.startsWith("s3://")) return new S3Target(parseS3Url(to), env);
  if (to === "docker") return new DockerTarget(env, cwd, say);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw new TargetError(`--to ${to}: only a folder, s3://bucket/prefix or docker can be deployed to`);
  return new FolderTarget(resolve(cwd, to));
}
