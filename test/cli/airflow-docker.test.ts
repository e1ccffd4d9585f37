/** `gen airflow ... --docker` in-process: options, settings and the demo connections (no engine started). */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDockerArgs } from "../../src/cli/airflow-docker.ts";
import { dockerSettings, stackConnections } from "../../src/deploy/docker-stack.ts";
import { run } from "../../src/cli/main.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const noVenv = existsSync(`${ROOT}.venv/bin/python`) ? null : "no .venv: run scripts/setup-python.sh (npm test does)";
if (noVenv) console.warn(`SKIPPED the docker connections test: ${noVenv}`);

function io() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { cwd: ROOT, stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe("gen airflow --docker", () => {
  it("parses --workers, --base, --bridge and --volumes where they apply", () => {
    expect(parseDockerArgs("up", ["--docker"])).toEqual({ workers: 2, base: "offline", bridge: false, volumes: false });
    expect(parseDockerArgs("up", ["--docker", "--workers", "3", "--base", "official", "--bridge"])).toEqual({
      workers: 3,
      base: "official",
      bridge: true,
      volumes: false,
    });
    expect(parseDockerArgs("down", ["--docker", "--volumes"])).toMatchObject({ volumes: true });
    expect(parseDockerArgs("up", ["--docker", "--workers", "0"])).toMatch(/--workers needs a number from 1 to 99/);
    expect(parseDockerArgs("up", ["--docker", "--base", "alpine"])).toMatch(/--base is offline or official/);
    expect(parseDockerArgs("down", ["--docker", "--workers", "2"])).toMatch(/unknown option --workers/);
  });

  it("rejects a bad option with DS2001 and exit 2 before touching Docker", async () => {
    const { out, io: i } = io();
    expect(await run(["airflow", "up", "--docker", "--workers", "many"], i)).toBe(2);
    expect(out.stderr).toMatch(/DS2001: --workers needs a number/);
  });

  it("reads ports and the source from the environment, with host-network defaults that avoid the machine's", () => {
    const s = dockerSettings({}, ROOT);
    expect([s.apiPort, s.postgresPort, s.redisPort]).toEqual([28080, 25432, 26379]);
    expect(s.project).toBe("dagspec");
    expect(dockerSettings({ DAGSPEC_API_PORT: "31000" }, ROOT).apiPort).toBe(31000);
    expect(() => dockerSettings({ DAGSPEC_API_PORT: "http" }, ROOT)).toThrow(/DAGSPEC_API_PORT must be a port number/);
    expect(() => dockerSettings({ DAGSPEC_DOCKER_PROJECT: "Bad Name" }, ROOT)).toThrow(/DAGSPEC_DOCKER_PROJECT/);
  });

  it.skipIf(noVenv)("points the demo connections at the source and the loopback stand-ins, as Airflow JSON, from the local environment tool", async () => {
    const s = dockerSettings({ DAGSPEC_DOCKER_SOURCE_URL: "postgresql://reader:p%40ss@db.local:6543/shop", DAGSPEC_DOCKER_SMTP_PORT: "2600" }, ROOT);
    const c = await stackConnections(s);
    expect(Object.keys(c).sort()).toEqual(["AIRFLOW_CONN_APP_DB", "AIRFLOW_CONN_PAGERDUTY_DEFAULT", "AIRFLOW_CONN_SMTP_DEFAULT"]);
    expect(JSON.parse(c.AIRFLOW_CONN_APP_DB!)).toMatchObject({ conn_type: "postgres", host: "db.local", port: 6543, login: "reader", password: "p@ss", schema: "shop" });
    expect(JSON.parse(c.AIRFLOW_CONN_SMTP_DEFAULT!)).toMatchObject({ conn_type: "smtp", host: "127.0.0.1", port: 2600, extra: { disable_tls: true } });
    expect(JSON.parse(c.AIRFLOW_CONN_PAGERDUTY_DEFAULT!)).toMatchObject({ conn_type: "pagerduty_events", host: "http://127.0.0.1:9097" });
  });
});
