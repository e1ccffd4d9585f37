/**
 * `gen deploy --to <folder | s3://bucket/prefix | docker> [--json]`: compiles the specs and installs
 * the result (DAGs, dbt projects, the runtime) where Airflow reads it. See src/deploy/ for how each
 * target stays consistent for readers.
 */
import { resolve } from "node:path";
import type { Io } from "./io.ts";
import { bool, parseFlags, str, UsageError, wantsHelp } from "./args.ts";
import { silent, step } from "./progress.ts";
import { buildOrReport } from "./build-for-deploy.ts";
import { makeBundle } from "../deploy/bundle.ts";
import { openTarget, TargetError } from "../deploy/target.ts";
import { DeployConflict } from "../deploy/folder.ts";
import { S3DeployError } from "../deploy/s3.ts";
import { ManifestError } from "../deploy/manifest.ts";

export const DEPLOY_USAGE = `usage: gen deploy --to <FOLDER | s3://BUCKET/PREFIX | docker> [--json] [--specs DIR] [--root DIR]

  Compiles the specs and installs the build where Airflow reads it: dags/<id>.py, dbt/<id>/ and the
  runtime package (runtime/: install it with pip install --no-deps FOLDER/runtime) and the docs
  plugin (plugins/). Files of pipelines removed from the repo are removed there;
  nothing dagspec did not deploy is ever touched.

  FOLDER               an Airflow installation's folder: point dags_folder at FOLDER/dags and
                       plugins_folder at FOLDER/plugins. The whole deployment is swapped in at once
                       (release folders under FOLDER/.dagspec, one atomic symlink rename).
  s3://BUCKET/PREFIX   for managed Airflow reading DAGs from S3: only changed objects are uploaded,
                       removed ones deleted, PREFIX/.dagspec/manifest.json written last. Endpoint from
                       AWS_ENDPOINT_URL (MinIO, moto), credentials from the usual AWS chain.
  docker               the dockerised stack gen airflow up --docker started (same environment:
                       DAGSPEC_DOCKER_PROJECT, ports): rebuilds the image its Airflow services run with
                       this build and recreates api-server, scheduler, dag-processor, triggerer and
                       workers on it (metadata database, lake and logs stay); waits until all are healthy

  --json               print what was uploaded and deleted as JSON (no progress lines)

  example:
    gen deploy --to /opt/airflow
    AWS_ENDPOINT_URL=http://127.0.0.1:9000 gen deploy --to s3://airflow-dags/prod
    gen airflow up --docker && gen deploy --to docker

  exit codes: 0 deployed (or already current), 1 the specs do not compile, 2 usage,
              3 the target refused or failed (nothing committed: the previous deployment stays;
              docker: also when the stack is not up)
`;

export async function runDeploy(argv: readonly string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(DEPLOY_USAGE);
    return 0;
  }
  let p;
  try {
    p = parseFlags(argv, { to: "string", json: "boolean", specs: "string", root: "string" });
    if (p.positional.length) throw new UsageError(`unexpected argument ${p.positional[0]}`);
    if (!str(p, "to")) throw new UsageError("--to is required");
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`gen deploy: error DS2001: ${err.message}\n${DEPLOY_USAGE}`);
    return 2;
  }
  const json = bool(p, "json");
  const say = json ? silent : io.stderr;
  const root = resolve(io.cwd, str(p, "root") ?? ".");
  let target;
  try {
    target = openTarget(str(p, "to")!, io.cwd, process.env, say);
  } catch (err) {
    io.stderr(`gen deploy: error DS2001: ${(err as Error).message}\n`);
    return 2;
  }
  const refused = (err: unknown): number => {
    if (err instanceof DeployConflict || err instanceof S3DeployError || err instanceof ManifestError || err instanceof TargetError) {
      const hint = (err instanceof TargetError && err.hint) || "the previous deployment is untouched; fix the cause and run gen deploy again";
      io.stderr(`gen deploy: error: ${err.message}\n  hint: ${hint}\n`);
      return 3;
    }
    throw err;
  };
  // A target that cannot take a deployment (the docker stack is not up) says so before the compile.
  try {
    await target.check?.();
  } catch (err) {
    return refused(err);
  }
  const built = await buildOrReport(io, say, root, str(p, "specs") ?? "specs", json, "deploy");
  if (!built) return 1;
  const bundle = makeBundle(built.files, built.pipelines);
  let result;
  try {
    const t = target;
    result = await step(say, `deploying ${bundle.files.size} files to ${t.label}`, () => t.deploy(bundle));
  } catch (err) {
    return refused(err);
  }
  if (json) {
    const { manifest, ...rest } = result;
    io.stdout(`${JSON.stringify({ ...rest, dagspecVersion: manifest.dagspecVersion, pipelines: manifest.pipelines }, null, 2)}\n`);
    return 0;
  }
  const ids = Object.keys(result.manifest.pipelines);
  if (result.unchanged) io.stdout(`gen: ${target.label} already holds this build (release ${result.releaseId}, ${ids.length} pipeline(s)); nothing uploaded\n`);
  else {
    io.stdout(`gen: deployed release ${result.releaseId} to ${target.label}: ${result.uploaded.length} file(s) written, ${result.deleted.length} removed, ${ids.length} pipeline(s): ${ids.join(", ")}\n`);
    for (const d of result.deleted) io.stdout(`  removed ${d}\n`);
  }
  return 0;
}
