/**
 * `gen airflow up|down|status|cli --docker`: the dockerised Airflow (airflow/docker-compose.yaml,
 * CeleryExecutor) with the interface of the native stack. The stack itself (engine, compose files,
 * image build, health wait, connections) is src/deploy/docker-stack.ts, shared with
 * `gen deploy --to docker`.
 *
 * `up` starts a Docker engine if none answers (airflow/docker/engine.sh: a private dockerd without a
 * bridge), prepares the wheelhouse and (by default) the offline base images, builds the image from
 * generated/, starts the stack on the host network with N workers, waits until every container is
 * healthy, and prints the UI address and login. The demo's connections point at the machine's
 * demo_shop and at the local SMTP / PagerDuty stand-ins of the local environment tool, which `up`
 * runs on the host (`python -m dagspec_local.standins`, airflow/local/dagspec_local).
 * Connections are environment variables of the containers, never part of the image.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as compose from "docker-compose";
import type { Io } from "./io.ts";
import { choicesFromEnv, DockerStack, dockerSettings, healthTimeout, loadChoices, ROOT, settle, type DockerSettings } from "../deploy/docker-stack.ts";

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
  gen deploy --to docker          a new build into the running stack: the image rebuilt with the
                                  specs, the Airflow services recreated on it (see gen deploy --help)

  Settings (environment): DAGSPEC_API_PORT (28080), DAGSPEC_POSTGRES_PORT (25432), DAGSPEC_REDIS_PORT
  (26379), DAGSPEC_DOCKER_SMTP_PORT (2527), DAGSPEC_DOCKER_PAGERDUTY_PORT (9097),
  DAGSPEC_DOCKER_SOURCE_URL (postgresql://postgres@127.0.0.1:5432/demo_shop, the app_db connection),
  DAGSPEC_DOCKER_PROJECT (dagspec), DAGSPEC_DOCKER_HOME (.cache/docker: the private engine),
  DAGSPEC_DOCKER_STACK_HOME (.cache/docker/stack: secrets, what up chose, mail, pages),
  DAGSPEC_DOCKER_COMPOSE_FILES (more compose files, ':'-separated; up records them),
  AIRFLOW_CONN_* (replace the demo's connections)
`;

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

async function up(stack: DockerStack, o: Options, io: Io): Promise<number> {
  const t0 = Date.now();
  const secs = () => `${Math.round((Date.now() - t0) / 1000)}s`;
  await stack.attach(true);
  if (!existsSync(join(ROOT, "generated", "dags"))) throw new Error("no generated/dags (run: npx gen build)");
  stack.saveChoices();
  // The demo's connections, unless the caller set one (AIRFLOW_CONN_* in the environment wins).
  const connections = await stack.connectionEnv();
  await stack.startStandins();
  await stack.buildImage("generated", connections);
  io.stdout(`docker: image built (${secs()}); starting ${o.workers} worker(s) and the services\n`);
  const started = await settle(compose.upAll({ ...stack.composeOptions(connections), commandOptions: ["--no-build", "--scale", `airflow-worker=${o.workers}`] }));
  if (started.exitCode !== 0) throw new Error(`docker-compose up failed:\n${started.err.slice(-3000)}`);
  await stack.waitHealthy(healthTimeout());
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
  // `up` records its choices; the other commands drive the stack the way `up` started it.
  const recorded = command === "up" ? null : loadChoices(s.home);
  const choices = recorded ? { ...recorded, bridge: recorded.bridge || o.bridge } : choicesFromEnv(process.env, o.base, o.bridge, command === "up" ? o.workers : undefined);
  const stack = new DockerStack(s, io.stdout, choices);
  try {
    if (command === "up") return await up(stack, o, io);
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
