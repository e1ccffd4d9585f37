/**
 * `gen airflow up|down|status|cli --docker`: the dockerised Airflow (airflow/docker-compose.yaml,
 * CeleryExecutor) with the interface of the native stack. Compose is driven through the
 * `docker-compose` npm package, which runs Debian's docker-compose 1.29 (`standalone`); the engine,
 * the offline base images and the wheelhouse come from the scripts in airflow/docker/.
 *
 * `up` starts a Docker engine if none answers (airflow/docker/engine.sh: a private dockerd without a
 * bridge), prepares the wheelhouse and (by default) the offline base images, builds the image, starts
 * the stack on the host network with N workers, waits until every container is healthy, and prints
 * the UI address and login. The demo's connections point at the machine's demo_shop and at the
 * local SMTP / PagerDuty stand-ins of the local environment tool, which `up` runs on the host
 * (`python -m dagspec_local.standins`, airflow/local/dagspec_local).
 * Connections are environment variables of the containers, never part of the image.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as compose from "docker-compose";
import { execa } from "execa";
import type { Io } from "./io.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOCKER_DIR = join(ROOT, "airflow", "docker");
const OFFLINE_BASE = "dagspec-offline/airflow-base:3.3.2-python3.11";

export const DOCKER_USAGE = `usage: gen airflow up|down|status|cli --docker ...

  gen airflow up --docker [--workers N] [--base offline|official] [--bridge]
        build the image and start postgres, redis, api-server, scheduler, dag-processor, triggerer
        and N Celery workers (default 2); waits until all are healthy; prints the UI and login.
        --base official builds on apache/airflow:3.3.2-python3.11 (needs a registry); the default
        builds on the offline base made from Debian packages. --bridge: the bridge-network variant
        (docker-compose.override.yaml); default: the host-network one (docker-compose.hostnet.yaml)
  gen airflow down --docker [--volumes]
        remove the containers (and with --volumes the metadata DB, lake and logs), stop the local
        stand-ins and the private Docker engine if \`up\` started one
  gen airflow status --docker     every container's state and health, the UI and login
  gen airflow cli --docker ...    the airflow command inside the scheduler container

  Settings (environment): DAGSPEC_API_PORT (28080), DAGSPEC_POSTGRES_PORT (25432), DAGSPEC_REDIS_PORT
  (26379), DAGSPEC_DOCKER_SMTP_PORT (2527), DAGSPEC_DOCKER_PAGERDUTY_PORT (9097),
  DAGSPEC_DOCKER_SOURCE_URL (postgresql://postgres@127.0.0.1:5432/demo_shop, the app_db connection),
  DAGSPEC_DOCKER_PROJECT (dagspec), DAGSPEC_DOCKER_HOME (.cache/docker: the private engine),
  DAGSPEC_DOCKER_STACK_HOME (.cache/docker/stack: secrets, mail, pages), DAGSPEC_DOCKER_COMPOSE_FILES
  (more compose files, ':'-separated), AIRFLOW_CONN_* (replace the demo's connections)
`;

/** Everything a command needs to find the stack; read from the environment (see README). */
export interface DockerSettings {
  home: string; // stack state: secrets.env, stand-ins' pid, outbox/, pagerduty/
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

/** The demo's connections as AIRFLOW_CONN_* JSON, for containers on the host network. */
export function demoConnections(s: DockerSettings): Record<string, string> {
  const src = new URL(s.sourceUrl);
  return {
    AIRFLOW_CONN_APP_DB: JSON.stringify({
      conn_type: "postgres",
      host: src.hostname || "127.0.0.1",
      port: Number(src.port || 5432),
      login: decodeURIComponent(src.username || "postgres"),
      ...(src.password ? { password: decodeURIComponent(src.password) } : {}),
      schema: src.pathname.replace(/^\//, ""),
    }),
    AIRFLOW_CONN_SMTP_DEFAULT: JSON.stringify({
      conn_type: "smtp",
      host: "127.0.0.1",
      port: s.smtpPort,
      extra: { disable_ssl: true, disable_tls: true, from_email: "dagspec@localhost" },
    }),
    AIRFLOW_CONN_PAGERDUTY_DEFAULT: JSON.stringify({
      conn_type: "pagerduty_events",
      host: `http://127.0.0.1:${s.pagerdutyPort}`,
      password: "local-routing-key",
    }),
  };
}

interface Options {
  workers: number;
  base: "offline" | "official";
  bridge: boolean;
  volumes: boolean;
}

export function parseDockerArgs(command: string, argv: readonly string[]): Options | string {
  const o: Options = { workers: 2, base: "offline", bridge: false, volumes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--docker") continue;
    if (command === "up" && a === "--workers") {
      const v = argv[++i] ?? "";
      if (!/^[1-9]\d?$/.test(v)) return `--workers needs a number from 1 to 99, got '${v}'`;
      o.workers = Number(v);
    } else if (command === "up" && a === "--base") {
      const v = argv[++i];
      if (v !== "offline" && v !== "official") return `--base is offline or official, got '${v ?? ""}'`;
      o.base = v;
    } else if ((command === "up" || command === "down" || command === "status") && a === "--bridge") o.bridge = true;
    else if (command === "down" && a === "--volumes") o.volumes = true;
    else return `unknown option ${a} for airflow ${command} --docker`;
  }
  return o;
}

class DockerStack {
  private dockerHost = "";

  constructor(
    private readonly s: DockerSettings,
    private readonly io: Io,
    private readonly bridge: boolean,
  ) {}

  private say(msg: string): void {
    this.io.stdout(`docker: ${msg}\n`);
  }

  private scriptEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DAGSPEC_DOCKER_HOME: this.s.engineHome, ...(this.dockerHost ? { DOCKER_HOST: this.dockerHost } : {}) };
  }

  /** Runs one of airflow/docker/*.sh; its stderr (progress) is passed through. */
  async script(name: string, args: string[] = []): Promise<string> {
    const r = await execa("bash", [join(DOCKER_DIR, name), ...args], { env: this.scriptEnv(), reject: false, stderr: "pipe", buffer: true });
    if (r.stderr) this.io.stdout(`${r.stderr.trimEnd()}\n`);
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

  private secrets(): Record<string, string> {
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
        this.bridge ? "airflow/docker-compose.override.yaml" : "airflow/docker-compose.hostnet.yaml",
        // Site or test overrides (mounts, more connections), applied last.
        ...(process.env.DAGSPEC_DOCKER_COMPOSE_FILES ?? "").split(":").filter(Boolean),
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
        ...this.secrets(),
        ...extraEnv,
      },
      callback,
    };
  }

  uiUrl(): string {
    return this.bridge ? "http://localhost:8080" : `http://127.0.0.1:${this.s.apiPort}`;
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
    const python = join(ROOT, ".venv", "bin", "python");
    if (!existsSync(python)) throw new Error("no .venv (run: bash scripts/setup-python.sh)");
    mkdirSync(join(this.s.home, "logs"), { recursive: true });
    const args = ["--smtp-port", String(this.s.smtpPort), "--outbox", join(this.s.home, "outbox"),
      "--pagerduty-port", String(this.s.pagerdutyPort), "--pagerduty-dir", join(this.s.home, "pagerduty")];
    // The same stand-ins as the native stack, the demo and the tests (airflow/local/dagspec_local).
    const local = join(ROOT, "airflow", "local");
    const child = spawn(python, ["-m", "dagspec_local.standins", ...args], {
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
      env: { ...process.env, PYTHONPATH: [local, process.env.PYTHONPATH].filter(Boolean).join(":") },
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

  /** Container id -> [service, state, health] of this project's containers. */
  async containers(): Promise<Array<{ id: string; name: string; service: string; state: string; health: string }>> {
    const r = await execa("docker", ["ps", "-a", "-q", "--filter", `label=com.docker.compose.project=${this.s.project}`], {
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
      reject: false,
    });
    const ids = r.stdout.split("\n").filter(Boolean);
    if (ids.length === 0) return [];
    const fmt = '{{.Id}}|{{.Name}}|{{index .Config.Labels "com.docker.compose.service"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}';
    const inspect = await execa("docker", ["inspect", "--format", fmt, ...ids], { env: { ...process.env, DOCKER_HOST: this.dockerHost }, reject: false });
    return inspect.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id = "", name = "", service = "", state = "", health = ""] = line.split("|");
        return { id: id.slice(0, 12), name: name.replace(/^\//, ""), service, state, health };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
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
        const code = await execa("docker", ["inspect", "--format", "{{.State.ExitCode}}", init.id], { env: { ...process.env, DOCKER_HOST: this.dockerHost } });
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

/**
 * The npm package rejects with its result object (exit code, stdout, stderr) when compose exits
 * non-zero, and with an Error when compose cannot start: both become a result here.
 */
async function settle(p: Promise<compose.IDockerComposeResult>): Promise<compose.IDockerComposeResult> {
  try {
    return await p;
  } catch (err) {
    if (err && typeof err === "object" && "exitCode" in err) return err as compose.IDockerComposeResult;
    const message = (err as Error).message ?? String(err);
    return { exitCode: 127, out: "", err: `${message} (is docker-compose installed? apt-get install docker-compose)`, truncated: { out: false, err: false } };
  }
}

/** Prints a build's steps (one line each) instead of its full output. */
function buildProgress(io: Io): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (/^(Step \d+\/\d+ :|Successfully (built|tagged)|Building )/.test(line)) io.stdout(`docker: ${line.slice(0, 160)}\n`);
    }
  };
}

async function up(stack: DockerStack, s: DockerSettings, o: Options, io: Io): Promise<number> {
  const t0 = Date.now();
  const secs = () => `${Math.round((Date.now() - t0) / 1000)}s`;
  await stack.attach(true);
  if (!existsSync(join(ROOT, "generated", "dags"))) throw new Error("no generated/dags (run: npx gen build)");
  await stack.script("wheelhouse.sh");
  const extra: Record<string, string> = {};
  if (o.base === "offline") {
    await stack.script("offline-base.sh");
    Object.assign(extra, { DAGSPEC_AIRFLOW_BASE: OFFLINE_BASE, DAGSPEC_POSTGRES_IMAGE: "dagspec-offline/postgres:15", DAGSPEC_REDIS_IMAGE: "dagspec-offline/redis:7" });
  }
  // The demo's connections, unless the caller set one (AIRFLOW_CONN_* in the environment wins).
  for (const [k, v] of Object.entries(demoConnections(s))) extra[k] = process.env[k] || v;
  await stack.startStandins();
  io.stdout(`docker: building the image (${o.base} base)\n`);
  const build = await settle(compose.buildOne("airflow-apiserver", stack.composeOptions(extra, buildProgress(io))));
  if (build.exitCode !== 0) throw new Error(`image build failed:\n${(build.out + build.err).slice(-3000)}`);
  io.stdout(`docker: image built (${secs()}); starting ${o.workers} worker(s) and the services\n`);
  const started = await settle(compose.upAll({ ...stack.composeOptions(extra), commandOptions: ["--no-build", "--scale", `airflow-worker=${o.workers}`] }));
  if (started.exitCode !== 0) throw new Error(`docker-compose up failed:\n${started.err.slice(-3000)}`);
  await stack.waitHealthy(Number(process.env.DAGSPEC_DOCKER_TIMEOUT || 600));
  io.stdout(`docker: up in ${secs()}\n${stack.login()}`);
  return 0;
}

export async function runAirflowDocker(command: string, argv: readonly string[], io: Io): Promise<number> {
  const o = parseDockerArgs(command, command === "cli" ? [] : argv);
  if (typeof o === "string") {
    io.stderr(`gen: error DS2001: ${o}\n${DOCKER_USAGE}`);
    return 2;
  }
  let s: DockerSettings;
  try {
    s = dockerSettings(process.env, io.cwd);
  } catch (err) {
    io.stderr(`gen: error DS2001: ${(err as Error).message}\n`);
    return 2;
  }
  const stack = new DockerStack(s, io, o.bridge);
  try {
    if (command === "up") return await up(stack, s, o, io);
    if (!(await stack.attach(false))) {
      io.stdout(`docker: no Docker engine answers: nothing runs\n`);
      if (command === "down") stack.stopStandins();
      return command === "down" ? 0 : 1;
    }
    if (command === "down") {
      const r = await settle(compose.downAll({ ...stack.composeOptions(), commandOptions: o.volumes ? ["--volumes", "--remove-orphans"] : ["--remove-orphans"] }));
      if (r.exitCode !== 0) throw new Error(`docker-compose down failed:\n${r.err.slice(-3000)}`);
      stack.stopStandins();
      io.stdout(`docker: removed the containers${o.volumes ? " and volumes" : ""} of ${s.project}\n`);
      await stack.script("engine.sh", ["stop"]);
      return 0;
    }
    if (command === "status") {
      const cs = await stack.containers();
      for (const c of cs) io.stdout(`  ${c.name.padEnd(36)} ${c.state}${c.health ? ` (${c.health})` : ""}\n`);
      if (cs.length === 0) {
        io.stdout("docker: no containers of the stack\n");
        return 1;
      }
      io.stdout(stack.login());
      return cs.every((c) => c.service === "airflow-init" || c.health === "healthy" || (c.state === "running" && !c.health)) ? 0 : 1;
    }
    // cli: the airflow command in the scheduler container (`exec -T`), output as it comes.
    const args = argv.filter((a) => a !== "--docker");
    const r = await settle(
      compose.exec("airflow-scheduler", ["airflow", ...args], {
        ...stack.composeOptions(),
        callback: (chunk, source) => (source === "stderr" ? io.stderr(chunk.toString()) : io.stdout(chunk.toString())),
      }),
    );
    return r.exitCode ?? 1;
  } catch (err) {
    io.stderr(`docker: ${(err as Error).message}\n`);
    return 1;
  }
}
