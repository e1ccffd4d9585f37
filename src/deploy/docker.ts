/**
 * Deploying into the dockerised stack (`gen deploy --to docker`). Its Airflow services run the build
 * baked into their image (airflow/Dockerfile), so a deployment is a new image and the services
 * recreated on it, through the same stack object as `gen airflow up --docker`
 * (src/deploy/docker-stack.ts): the build is staged in the image's build context
 * (.cache/docker/deploy/<project>/: dags/, dbt/ and the deploy manifest; the runtime package and the
 * plugins come from this dagspec's tree, as the bundle's do), the image is rebuilt, and the api-server,
 * scheduler, dag-processor, triggerer and workers are recreated on it (PostgreSQL, Redis, the
 * metadata database and the data volumes stay). The manifest inside the image is the commit point:
 * `gen status --to docker` and the next deploy read it from the running containers. A failed build
 * changes nothing; the old containers serve the previous build until the new ones replace them.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Bundle } from "./bundle.ts";
import { TargetError, type DeployResult, type DeployTarget } from "./deploy-target.ts";
import { AIRFLOW_SERVICES, choicesFromEnv, DockerStack, dockerSettings, healthTimeout, loadChoices, ROOT, type Container } from "./docker-stack.ts";
import { lock } from "./folder.ts";
import { makeManifest, parseManifest, serializeManifest, type DeployManifest } from "./manifest.ts";

/** Where the image holds the manifest of the build it runs (airflow/Dockerfile copies it there). */
export const MANIFEST_IN_IMAGE = "/opt/dagspec/deploy-manifest.json";

export class DockerTarget implements DeployTarget {
  readonly label: string;
  private readonly stack: DockerStack;
  private attached = false;

  constructor(env: NodeJS.ProcessEnv, cwd: string, say: (s: string) => void) {
    const s = dockerSettings(env, cwd);
    // The stack as `up` started it (base images, network variant, compose files).
    const choices = loadChoices(s.home) ?? choicesFromEnv(env, "offline", false);
    this.stack = new DockerStack(s, (line) => say(`gen: ${line}`), choices);
    this.label = `docker (compose project ${s.project}, ${this.stack.uiUrl()})`;
  }

  /** The running Airflow containers, or a TargetError saying the stack is not up and what to run. */
  private async running(): Promise<Container[]> {
    const notUp = (why: string) =>
      new TargetError(
        `the dockerised stack (compose project ${this.stack.s.project}) is not up: ${why}`,
        "start it with gen airflow up --docker (same environment: DAGSPEC_DOCKER_PROJECT, ports), then run this again",
      );
    if (!this.attached) {
      if (!(await this.stack.attach(false))) throw notUp("no Docker engine answers");
      this.attached = true;
    }
    const cs = await this.stack.airflowContainers();
    const missing = AIRFLOW_SERVICES.filter((svc) => !cs.some((c) => c.service === svc));
    if (missing.length) throw notUp(`${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not running`);
    return cs;
  }

  async check(): Promise<void> {
    await this.running();
  }

  /** The manifest in the image the Airflow containers run; null for an image `up` built from generated/. */
  async readManifest(): Promise<DeployManifest | null> {
    const cs = await this.running();
    const images = new Set(cs.map((c) => c.image));
    if (images.size > 1) {
      throw new TargetError(
        `the stack's Airflow containers run ${images.size} different images (${cs.map((c) => `${c.name}: ${c.image.slice(7, 19)}`).join(", ")})`,
        "an earlier deploy did not finish: run gen deploy --to docker again",
      );
    }
    const reader = cs.find((c) => c.service === "airflow-dag-processor")!;
    let text: string | null;
    try {
      text = await this.stack.readFile(reader.id, MANIFEST_IN_IMAGE);
    } catch (err) {
      throw new TargetError((err as Error).message);
    }
    return text === null ? null : parseManifest(text, `${reader.name}:${MANIFEST_IN_IMAGE}`);
  }

  async deploy(bundle: Bundle): Promise<DeployResult> {
    await this.running();
    mkdirSync(this.stack.s.home, { recursive: true });
    const unlock = lock(join(this.stack.s.home, "deploy.lock"), this.label);
    try {
      return await this.deployLocked(bundle);
    } finally {
      unlock();
    }
  }

  private async deployLocked(bundle: Bundle): Promise<DeployResult> {
    const manifest = makeManifest(bundle);
    const previous = await this.readManifest();
    if (previous?.releaseId === manifest.releaseId) {
      return { target: this.label, releaseId: manifest.releaseId, uploaded: [], deleted: [], unchanged: true, manifest };
    }
    const changed = Object.keys(manifest.files).filter((p) => previous?.files[p] !== manifest.files[p]).sort();
    const removed = previous ? Object.keys(previous.files).filter((p) => !(p in manifest.files)).sort() : [];
    // As many workers as `up` started (one may have been stopped since), or as run now.
    const running = (await this.running()).filter((c) => c.service === "airflow-worker").length;
    const workers = Math.max(this.stack.choices.workers ?? 0, running);
    const staged = this.stage(bundle, manifest);
    const connections = await this.stack.connectionEnv();
    try {
      await this.stack.buildImage(relative(ROOT, staged), connections);
    } catch (err) {
      throw new TargetError((err as Error).message, "the stack still runs the previous build; fix the cause and run gen deploy --to docker again");
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
    try {
      this.stack.say(`image built; recreating ${AIRFLOW_SERVICES.join(", ")} (${workers} worker(s)) on it`);
      await this.stack.recreate(workers, connections);
      await this.stack.waitHealthy(healthTimeout());
    } catch (err) {
      throw new TargetError(
        (err as Error).message,
        "the services may run a mix of the previous and the new build (gen airflow status --docker shows them): run gen deploy --to docker again",
      );
    }
    const now = await this.readManifest();
    if (now?.releaseId !== manifest.releaseId) {
      throw new TargetError(`after recreating the services the stack runs release ${now?.releaseId ?? "(none)"}, not ${manifest.releaseId}`, "run gen deploy --to docker again");
    }
    return { target: this.label, releaseId: manifest.releaseId, uploaded: changed, deleted: removed, unchanged: false, manifest };
  }

  /** The build folder the image takes (dags/, dbt/, deploy-manifest.json), inside the build context. */
  private stage(bundle: Bundle, manifest: DeployManifest): string {
    const dir = join(ROOT, ".cache", "docker", "deploy", this.stack.s.project);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "dags"), { recursive: true });
    mkdirSync(join(dir, "dbt"), { recursive: true });
    for (const [p, b] of bundle.files) {
      // plugins/ and runtime/ are the Dockerfile's own COPYs of this tree: the same files.
      if (!p.startsWith("dags/") && !p.startsWith("dbt/")) continue;
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), b);
    }
    writeFileSync(join(dir, "deploy-manifest.json"), serializeManifest(manifest));
    return dir;
  }
}
