/**
 * `gen status [--to TARGET] [--airflow URL] [--json]`: per pipeline, what is deployed and what
 * Airflow runs, against what the repo builds. The command an on-call engineer runs first.
 */
import { resolve } from "node:path";
import type { Io } from "./io.ts";
import { bool, parseFlags, str, UsageError, wantsHelp } from "./args.ts";
import { silent, step } from "./progress.ts";
import { buildOrReport } from "./build-for-deploy.ts";
import { makeBundle } from "../deploy/bundle.ts";
import { makeManifest, ManifestError } from "../deploy/manifest.ts";
import { openTarget, TargetError } from "../deploy/target.ts";
import { S3DeployError } from "../deploy/s3.ts";
import { compareDeployment, type DeploymentStatus } from "../status/compare.ts";
import { AirflowApi, AirflowApiError, splitAirflowUrl } from "../status/airflow-api.ts";
import { airflowStatus, errorLine, type AirflowStatus } from "../status/airflow-status.ts";

export const STATUS_USAGE = `usage: gen status [--to FOLDER | s3://BUCKET/PREFIX | docker] [--airflow URL] [--json] [--specs DIR] [--root DIR]

  Per pipeline, what the repo builds against what is deployed (--to) and what a running Airflow has
  parsed (--airflow): current, stale (the spec changed), missing, orphaned (deployed, gone from the
  repo); from Airflow also import errors and paused state.

  --to        a deploy target, as for gen deploy; reads its deploy manifest (docker: the one in the
              image the stack's Airflow containers run; none when gen airflow up --docker built it
              from generated/ rather than gen deploy --to docker)
  --airflow   the Airflow 3 api-server, e.g. http://admin:admin@127.0.0.1:8080 (SimpleAuthManager
              login), or set AIRFLOW_API_USER/AIRFLOW_API_PASSWORD, or AIRFLOW_API_TOKEN
  --json      the same as JSON

  example:
    gen status --to /opt/airflow --airflow http://admin:admin@127.0.0.1:8080
    gen status --to docker --airflow http://admin:PASSWORD@127.0.0.1:28080

  exit codes: 0 every pipeline current, 1 something is not (or the specs do not compile),
              2 usage, 3 the target or Airflow could not be read
`;

export async function runStatus(argv: readonly string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(STATUS_USAGE);
    return 0;
  }
  let p;
  try {
    p = parseFlags(argv, { to: "string", airflow: "string", json: "boolean", specs: "string", root: "string" });
    if (p.positional.length) throw new UsageError(`unexpected argument ${p.positional[0]}`);
    if (!str(p, "to") && !str(p, "airflow")) throw new UsageError("give --to (a deploy target) and/or --airflow (an api-server URL)");
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`gen status: error DS2001: ${err.message}\n${STATUS_USAGE}`);
    return 2;
  }
  const json = bool(p, "json");
  const say = json ? silent : io.stderr;
  let target;
  let api;
  try {
    target = str(p, "to") ? openTarget(str(p, "to")!, io.cwd, process.env, say) : undefined;
    const af = str(p, "airflow");
    api = af ? (({ base, auth }) => new AirflowApi(base, auth))(splitAirflowUrl(af)) : undefined;
  } catch (err) {
    io.stderr(`gen status: error DS2001: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    await target?.check?.(); // the docker stack not up: said before the compile
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    io.stderr(`gen status: error: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ""}`);
    return 3;
  }
  const built = await buildOrReport(io, say, resolve(io.cwd, str(p, "root") ?? "."), str(p, "specs") ?? "specs", json, "status");
  if (!built) return 1;
  const repo = makeManifest(makeBundle(built.files, built.pipelines));

  let deployment: (DeploymentStatus & { target: string; releaseId: string | null; dagspecVersion: string | null }) | undefined;
  let airflow: AirflowStatus | undefined;
  try {
    if (target) {
      const t = target;
      const deployed = await step(say, `reading the deploy manifest of ${t.label}`, () => t.readManifest());
      deployment = { target: t.label, releaseId: deployed?.releaseId ?? null, dagspecVersion: deployed?.dagspecVersion ?? null, ...compareDeployment(repo, deployed) };
    }
    if (api) {
      const a = api;
      airflow = await step(say, `reading DAGs, sources and import errors from ${a.base}`, () => airflowStatus(a, repo));
    }
  } catch (err) {
    if (err instanceof AirflowApiError || err instanceof S3DeployError || err instanceof ManifestError || err instanceof TargetError) {
      io.stderr(`gen status: error: ${err.message}\n${err instanceof TargetError && err.hint ? `  hint: ${err.hint}\n` : ""}`);
      return 3;
    }
    throw err;
  }
  const allCurrent =
    (!deployment || (deployment.runtime === "current" && deployment.pipelines.every((x) => x.state === "current"))) &&
    (!airflow || airflow.pipelines.every((x) => x.state === "current"));
  if (json) {
    io.stdout(`${JSON.stringify({ ok: allCurrent, repo: { releaseId: repo.releaseId, pipelines: Object.fromEntries(Object.entries(repo.pipelines).map(([id, x]) => [id, x.specHash])) }, deployment, airflow }, null, 2)}\n`);
  } else {
    io.stdout(render(deployment, airflow));
  }
  return allCurrent ? 0 : 1;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}`.trimEnd()).join("\n");
}

function render(deployment: (DeploymentStatus & { target: string; releaseId: string | null; dagspecVersion: string | null }) | undefined, airflow: AirflowStatus | undefined): string {
  const out: string[] = [];
  if (deployment) {
    out.push(
      deployment.releaseId
        ? `deployed at ${deployment.target}: release ${deployment.releaseId} (dagspec ${deployment.dagspecVersion})`
        : `deployed at ${deployment.target}: nothing (no deploy manifest)`,
    );
    out.push(
      table([
        ["pipeline", "state", "spec hash (repo / deployed)", "next"],
        ...deployment.pipelines.map((x) => [x.id, x.state, `${x.repoSpecHash ?? "-"} / ${x.deployedSpecHash ?? "-"}`, x.reason ?? ""]),
        ["(runtime)", deployment.runtime, "", deployment.runtime === "current" ? "" : "run gen deploy"],
      ]),
    );
  }
  if (airflow) {
    out.push(`Airflow at ${airflow.url}:`);
    out.push(
      table([
        ["pipeline", "state", "paused", "spec hash (repo / parsed)", "next"],
        ...airflow.pipelines.map((x) => [x.id, x.state, x.paused === null ? "-" : x.paused ? "paused" : "active", `${x.repoSpecHash ?? "-"} / ${x.parsedSpecHash ?? "-"}`, x.reason ?? ""]),
      ]),
    );
    const others = airflow.importErrors.filter((e) => !airflow.pipelines.some((x) => x.state === "import error" && x.reason?.startsWith(`${e.filename}:`)));
    for (const e of others) out.push(`  import error in ${e.filename}: ${errorLine(e.stackTrace)}`);
  }
  return `${out.join("\n")}\n`;
}
