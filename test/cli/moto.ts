/**
 * moto's S3 server (from the repository's .venv, as the Python tests use it) on a free loopback
 * port: the local S3-compatible store the S3 deploy is tested against. `motoMissing()` says why
 * the tests must skip when the venv is not there (scripts/setup-python.sh creates it).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

const MOTO = fileURLToPath(new URL("../../.venv/bin/moto_server", import.meta.url));

export function motoMissing(): string | null {
  return existsSync(MOTO) ? null : `${MOTO} not found: run scripts/setup-python.sh (npm test does) to create .venv`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const proc: ResultPromise = execa(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { reject: false, stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (proc.exitCode !== undefined && proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}`);
      if (Date.now() > deadline) {
        proc.kill();
        throw new Error(`moto_server did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc;
    },
  };
}
