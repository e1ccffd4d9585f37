/**
 * The dockerised Airflow (airflow/docker-compose.yaml, CeleryExecutor) as one object, shared by
 * `gen airflow up|down|status|cli --docker` (src/cli/airflow-docker.ts) and `gen deploy --to docker`
 * (src/deploy/docker.ts), so the engine, the compose files and their environment, the image build,
 * the services' recreation and the health wait exist once. Compose is driven through the
 * `docker-compose` npm package, which runs Debian's docker-compose 1.29 (`standalone`); the engine,
 * the offline base images and the wheelhouse come from the scripts in airflow/docker/.
 *
 * What `up` chose (base images, network variant, extra compose files) is kept in the stack's home
 * (stack.json), so a later deploy, `down` or `cli` drives the same compose project the same way.
 * The demo's connections come from the local environment tool (airflow/local/dagspec_local,
 * `python -m dagspec_local.connections`), the one place that builds them for the native stack too;
 * they are environment variables of the containers, never part of the image.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as compose from "docker-compose";
import { execa } from "execa";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOCKER_DIR = join(ROOT, "airflow", "docker");
const LOCAL_ENV = join(ROOT, "airflow", "local");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const OFFLINE_IMAGES = {
  DAGSPEC_AIRFLOW_BASE: "dagspec-offline/airflow-base:3.3.2-python3.11",
  DAGSPEC_POSTGRES_IMAGE: "dagspec-offline/postgres:15",
  DAGSPEC_REDIS_IMAGE: "dagspec-offline/redis:7",
};
/** The services that run the dagspec image (airflow-init too, but it only migrates, once). */
export const AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker"] as const;

/** Everything a command needs to find the stack; read from the environment (see README). */
export interface DockerSettings {
  home: string; // stack state: secrets.env, stack.json, stand-ins' pid, outbox/, pagerduty/
  engineHome: string; // the private engine's folders (engine.sh)
  project: string;
  apiPort: number;
  postgresPort: number;
  redisPort: number;
  smtpPort: number;
  pagerdutyPort: number;
  sourceUrl: string;
  user: string;
}

export function dockerSettings(env: NodeJS.ProcessEnv, cwd: string): DockerSettings {
  const num = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === "") return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a port number, got '${v}'`);
    return Number(v);
  };
  const project = env.DAGSPEC_DOCKER_PROJECT || "dagspec";
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) throw new Error(`DAGSPEC_DOCKER_PROJECT must be lower-case letters, digits, '_' or '-'`);
  return {
    home: resolve(cwd, env.DAGSPEC_DOCKER_STACK_HOME || join(ROOT, ".cache", "docker", "stack")),
    engineHome: resolve(cwd, env.DAGSPEC_DOCKER_HOME || join(ROOT, ".cache", "docker")),
    project,
    apiPort: num("DAGSPEC_API_PORT", 28080),
    postgresPort: num("DAGSPEC_POSTGRES_PORT", 25432),
    redisPort: num("DAGSPEC_REDIS_PORT", 26379),
    smtpPort: num("DAGSPEC_DOCKER_SMTP_PORT", 2527),
    pagerdutyPort: num("DAGSPEC_DOCKER_PAGERDUTY_PORT", 9097),
    sourceUrl: env.DAGSPEC_DOCKER_SOURCE_URL || "postgresql://postgres@127.0.0.1:5432/demo_shop",
    user: env.AIRFLOW_ADMIN_USER || "admin",
  };
}

/** How `up` started the stack; kept in <home>/stack.json for the commands that come after it. */
export interface StackChoices {
  base: "offline" | "official";
  bridge: boolean;
  /** DAGSPEC_DOCKER_COMPOSE_FILES at `up`: site or test overrides, applied last. */
  composeFiles: string[];
  /** `up --workers N`: a deploy recreates N workers, also when one of them was stopped meanwhile. */
  workers?: number;
}

export function choicesFromEnv(env: NodeJS.ProcessEnv, base: StackChoices["base"], bridge: boolean, workers?: number): StackChoices {
  return { base, bridge, workers, composeFiles: (env.DAGSPEC_DOCKER_COMPOSE_FILES ?? "").split(":").filter(Boolean).map((f) => resolve(ROOT, f)) };
}

/** What `up` recorded, or null for a stack `up` never started from this home. */
export function loadChoices(home: string): StackChoices | null {
  const file = join(home, "stack.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StackChoices) : null;
}

export interface Container {
  id: string;
  name: string;
  service: string;
  state: string;
  health: string;
  /** The image id (sha256:...) the container was created from. */
  image: string;
}

/**
 * The stack's connections as AIRFLOW_CONN_* JSON (the source, the SMTP and PagerDuty stand-ins on
 * loopback, where host-network containers reach them), from the local environment tool.
 */
export async function stackConnections(s: DockerSettings): Promise<Record<string, string>> {
  if (!existsSync(PYTHON)) throw new Error("no .venv (run: bash scripts/setup-python.sh)");
  const r = await execa(
    PYTHON,
    ["-m", "dagspec_local.connections", "--source-url", s.sourceUrl, "--smtp-port", String(s.smtpPort), "--pagerduty-port", String(s.pagerdutyPort)],
    { env: { PYTHONPATH: [LOCAL_ENV, process.env.PYTHONPATH].filter(Boolean).join(delimiter) }, reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`python -m dagspec_local.connections failed (exit ${r.exitCode}): ${r.stderr.slice(-1000)}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

export class DockerStack {
  private dockerHost = "";

  /** `out` receives whole lines (`docker: ...\n`): stdout for `gen airflow`, progress for `gen deploy`. */
  constructor(
    readonly s: DockerSettings,
    private readonly out: (line: string) => void,
    readonly choices: StackChoices,
  ) {}

  say(msg: string): void {
    this.out(`docker: ${msg}\n`);
  }

  private scriptEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DAGSPEC_DOCKER_HOME: this.s.engineHome, ...(this.dockerHost ? { DOCKER_HOST: this.dockerHost } : {}) };
  }

  private dockerEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.dockerHost };
  }

  /** Runs one of airflow/docker/*.sh; its stderr (progress) is passed through. */
  async script(name: string, args: string[] = []): Promise<string> {
    const r = await execa("bash", [join(DOCKER_DIR, name), ...args], { env: this.scriptEnv(), reject: false, stderr: "pipe", buffer: true });
    if (r.stderr) this.out(`${r.stderr.trimEnd()}\n`);
    if (r.exitCode !== 0) throw new Error(`airflow/docker/${name} ${args.join(" ")} failed (exit ${r.exitCode})`);
    return r.stdout.trim();
  }

  /** The engine engine.sh chose (a running one, or none): DOCKER_HOST for compose. */
  async attach(start: boolean): Promise<boolean> {
    if (start) await this.script("engine.sh", ["start"]);
    const r = await execa("bash", [join(DOCKER_DIR, "engine.sh"), "env"], { env: this.scriptEnv(), reject: false });
    if (r.exitCode !== 0) return false;
    this.dockerHost = r.stdout.replace(/^export DOCKER_HOST=/, "").replace(/^'(.*)'$/, "$1").trim();
    return true;
  }

  saveChoices(): void {
    mkdirSync(this.s.home, { recursive: true });
    writeFileSync(join(this.s.home, "stack.json"), `${JSON.stringify(this.choices, null, 2)}\n`);
  }

  secrets(): Record<string, string> {
    const file = join(this.s.home, "secrets.env");
    if (!existsSync(file)) {
      mkdirSync(this.s.home, { recursive: true });
      // Generated once per stack: restarts keep sessions and the connections' encryption key.
      const lines = [
        `AIRFLOW__CORE__FERNET_KEY=${randomBytes(32).toString("base64url")}=`, // Fernet: 32 bytes, padded url-safe base64
        `AIRFLOW__API__SECRET_KEY=${randomBytes(32).toString("base64url")}`,
        `AIRFLOW__API_AUTH__JWT_SECRET=${randomBytes(64).toString("base64url")}`,
        `AIRFLOW_ADMIN_PASSWORD=${process.env.AIRFLOW_ADMIN_PASSWORD || randomBytes(9).toString("base64url")}`,
        `DAGSPEC_METADATA_PASSWORD=${randomBytes(18).toString("base64url")}`,
      ];
      writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    }
    return Object.fromEntries(
      readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  }

  composeOptions(extraEnv: Record<string, string> = {}, callback?: (chunk: Buffer) => void): compose.IDockerComposeOptions {
    const s = this.s;
    return {
      cwd: ROOT,
      executable: { standalone: true },
      config: [
        "airflow/docker-compose.yaml",
        this.choices.bridge ? "airflow/docker-compose.override.yaml" : "airflow/docker-compose.hostnet.yaml",
        // Site or test overrides (mounts, more connections), applied last.
        ...this.choices.composeFiles,
      ],
      composeOptions: [["--project-name", s.project]],
      env: {
        ...process.env,
        DOCKER_HOST: this.dockerHost,
        DAGSPEC_API_PORT: String(s.apiPort),
        DAGSPEC_POSTGRES_PORT: String(s.postgresPort),
        DAGSPEC_REDIS_PORT: String(s.redisPort),
        AIRFLOW_BASE_URL: this.uiUrl(),
        AIRFLOW_ADMIN_USER: s.user,
        ...(this.choices.base === "offline" ? OFFLINE_IMAGES : {}),
        ...this.secrets(),
        ...extraEnv,
      },
      callback,
    };
  }

  uiUrl(): string {
    return this.choices.bridge ? "http://localhost:8080" : `http://127.0.0.1:${this.s.apiPort}`;
  }

  /**
   * AIRFLOW_CONN_* for the containers: the caller's environment wins; then, when the stack runs,
   * what its scheduler has (a recreated service keeps the connection `up` gave it, even from
   * another shell); then the stack's own connections (the demo's).
   */
  async connectionEnv(): Promise<Record<string, string>> {
    const running: Record<string, string> = {};
    const scheduler = (await this.containers()).find((c) => c.service === "airflow-scheduler" && c.state === "running");
    if (scheduler) {
      const r = await execa("docker", ["inspect", "--format", "{{json .Config.Env}}", scheduler.id], { env: this.dockerEnv(), reject: false });
      for (const kv of r.exitCode === 0 ? (JSON.parse(r.stdout) as string[]) : []) {
        const at = kv.indexOf("=");
        if (kv.startsWith("AIRFLOW_CONN_") && at > 0 && kv.slice(at + 1)) running[kv.slice(0, at)] = kv.slice(at + 1);
      }
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(await stackConnections(this.s))) out[k] = process.env[k] || running[k] || v;
    return out;
  }

  private standinsPidFile(): string {
    return join(this.s.home, "local-services.pid");
  }

  private standinsPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.standinsPidFile(), "utf8").trim());
      process.kill(pid, 0);
      return /dagspec_local\.standins/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8")) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The SMTP and PagerDuty stand-ins on loopback, where the containers' connections point. */
  async startStandins(): Promise<void> {
    if (this.standinsPid() !== undefined) return;
    if (!existsSync(PYTHON)) throw new Error("no .venv (run: bash scripts/setup-python.sh)");
    mkdirSync(join(this.s.home, "logs"), { recursive: true });
    const args = ["--smtp-port", String(this.s.smtpPort), "--outbox", join(this.s.home, "outbox"),
      "--pagerduty-port", String(this.s.pagerdutyPort), "--pagerduty-dir", join(this.s.home, "pagerduty")];
    // The same stand-ins as the native stack, the demo and the tests (airflow/local/dagspec_local).
    const child = spawn(PYTHON, ["-m", "dagspec_local.standins", ...args], {
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
      env: { ...process.env, PYTHONPATH: [LOCAL_ENV, process.env.PYTHONPATH].filter(Boolean).join(delimiter) },
    });
    child.unref();
    writeFileSync(this.standinsPidFile(), `${child.pid}\n`);
    this.say(`local SMTP on 127.0.0.1:${this.s.smtpPort} -> ${join(this.s.home, "outbox")}, PagerDuty stand-in on 127.0.0.1:${this.s.pagerdutyPort} -> ${join(this.s.home, "pagerduty")}`);
  }

  stopStandins(): void {
    const pid = this.standinsPid();
    if (pid !== undefined) process.kill(pid, "SIGTERM");
    rmSync(this.standinsPidFile(), { force: true });
  }

  /** This project's containers: service, state, health and image. */
  async containers(): Promise<Container[]> {
    const r = await execa("docker", ["ps", "-a", "-q", "--filter", `label=com.docker.compose.project=${this.s.project}`], { env: this.dockerEnv(), reject: false });
    const ids = r.stdout.split("\n").filter(Boolean);
    if (ids.length === 0) return [];
    const fmt = '{{.Id}}|{{.Name}}|{{index .Config.Labels "com.docker.compose.service"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.Image}}';
    const inspect = await execa("docker", ["inspect", "--format", fmt, ...ids], { env: this.dockerEnv(), reject: false });
    return inspect.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id = "", name = "", service = "", state = "", health = "", image = ""] = line.split("|");
        return { id: id.slice(0, 12), name: name.replace(/^\//, ""), service, state, health, image };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The running containers of the services that run the dagspec image. */
  async airflowContainers(): Promise<Container[]> {
    return (await this.containers()).filter((c) => (AIRFLOW_SERVICES as readonly string[]).includes(c.service) && c.state === "running");
  }

  /** `docker exec <container> cat <path>`: the file's text, or null when the container has none. */
  async readFile(container: string, path: string): Promise<string | null> {
    const r = await execa("docker", ["exec", container, "cat", path], { env: this.dockerEnv(), reject: false });
    if (r.exitCode === 0) return r.stdout;
    if (/No such file/.test(r.stderr)) return null;
    throw new Error(`reading ${path} in ${container} failed: ${r.stderr.trim()}`);
  }

  /**
   * Builds the image every Airflow service runs from `buildDir` (a folder of the build context with
   * dags/ and dbt/, and deploy-manifest.json when `gen deploy` staged it; `generated` for `up`).
   */
  async buildImage(buildDir: string, extraEnv: Record<string, string>): Promise<void> {
    await this.script("wheelhouse.sh");
    if (this.choices.base === "offline") await this.script("offline-base.sh");
    this.say(`building the image (${this.choices.base} base, DAGs and dbt projects from ${buildDir})`);
    const build = await settle(compose.buildOne("airflow-apiserver", this.composeOptions({ ...extraEnv, DAGSPEC_BUILD: buildDir }, buildProgress((l) => this.say(l)))));
    if (build.exitCode !== 0) throw new Error(`image build failed:\n${(build.out + build.err).slice(-3000)}`);
  }

  /**
   * Recreates the Airflow services on the image just built (compose recreates a container whose
   * image changed), keeping `workers` workers; PostgreSQL, Redis and the init job are left alone.
   * A worker gets 60 s to finish what it runs before it is stopped.
   */
  async recreate(workers: number, extraEnv: Record<string, string>): Promise<void> {
    const r = await settle(
      compose.upMany([...AIRFLOW_SERVICES], {
        ...this.composeOptions(extraEnv),
        commandOptions: ["--no-build", "--no-deps", "--timeout", "60", "--scale", `airflow-worker=${workers}`],
      }),
    );
    if (r.exitCode !== 0) throw new Error(`docker-compose up (recreating the Airflow services) failed:\n${r.err.slice(-3000)}`);
  }

  async waitHealthy(timeoutS: number): Promise<void> {
    const deadline = Date.now() + timeoutS * 1000;
    let last = "";
    for (;;) {
      const cs = await this.containers();
      const waiting = cs.filter((c) => c.service !== "airflow-init" && !(c.state === "running" && (c.health === "" || c.health === "healthy")));
      const init = cs.find((c) => c.service === "airflow-init");
      const line = cs.map((c) => `${c.name.replace(`${this.s.project}_`, "")}=${c.health || c.state}`).join(" ");
      if (line !== last) this.say(line);
      last = line;
      if (init && init.state === "exited") {
        const code = await execa("docker", ["inspect", "--format", "{{.State.ExitCode}}", init.id], { env: this.dockerEnv() });
        if (code.stdout.trim() !== "0") throw new Error(`airflow-init failed (see: gen airflow cli --docker logs, or docker logs ${init.name})`);
      }
      const dead = cs.find((c) => c.service !== "airflow-init" && (c.state === "exited" || c.state === "dead"));
      if (dead) throw new Error(`${dead.name} exited during start-up (docker logs ${dead.name})`);
      if (cs.length > 0 && waiting.length === 0) return;
      if (Date.now() > deadline) throw new Error(`not healthy after ${timeoutS}s: ${waiting.map((c) => c.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }

  login(): string {
    return `  UI:     ${this.uiUrl()}\n  login:  ${this.s.user} / ${this.secrets().AIRFLOW_ADMIN_PASSWORD}\n`;
  }
}

/** The health wait's limit in seconds (DAGSPEC_DOCKER_TIMEOUT, default 600). */
export function healthTimeout(): number {
  return Number(process.env.DAGSPEC_DOCKER_TIMEOUT || 600);
}

/**
 * The npm package rejects with its result object (exit code, stdout, stderr) when compose exits
 * non-zero, and with an Error when compose cannot start: both become a result here.
 */
export async function settle(p: Promise<compose.IDockerComposeResult>): Promise<compose.IDockerComposeResult> {
  try {
    return await p;
  } catch (err) {
    if (err && typeof err === "object" && "exitCode" in err) return err as compose.IDockerComposeResult;
    const message = (err as Error).message ?? String(err);
    return { exitCode: 127, out: "", err: `${message} (is docker-compose installed? apt-get install docker-compose)`, truncated: { out: false, err: false } };
  }
}

/** A build's steps, one line each, instead of its full output. */
function buildProgress(say: (line: string) => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (/^(Step \d+\/\d+ :|Successfully (built|tagged)|Building )/.test(line)) say(line.slice(0, 160));
    }
  };
}
