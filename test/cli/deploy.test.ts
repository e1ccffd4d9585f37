/**
 * `gen deploy`: into a folder (release folders and one atomic symlink swap; a removed pipeline's
 * files go, files dagspec did not deploy stay) and into S3 on a local moto server (exactly the built
 * files plus a manifest; a second deploy uploads nothing; a removed spec's objects are deleted).
 */
import { describe, expect, it, beforeAll, afterAll, beforeEach } from "vitest";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { run } from "../../src/cli/main.ts";
import { build } from "../../src/build/build.ts";
import { makeBundle } from "../../src/deploy/bundle.ts";
import { sha256 } from "../../src/deploy/manifest.ts";
import { captureIo } from "./io.ts";
import { motoMissing, startMoto, type Moto } from "./moto.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A project with two pipelines: the seed and the snapshot-only golden case. */
function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "dagspec-deploy-"));
  cpSync(join(ROOT, "specs"), join(dir, "specs"), { recursive: true });
  cpSync(join(ROOT, "test/cases/snapshot_only/specs/inventory.pipeline.ts"), join(dir, "specs/inventory.pipeline.ts"));
  return dir;
}

async function expectedFiles(project: string): Promise<Map<string, Buffer>> {
  const b = await build({ root: project, specDir: "specs" });
  return makeBundle(b.files, b.pipelines).files;
}

describe("gen deploy --to <folder>", () => {
  let project: string;
  let to: string;
  beforeEach(() => {
    project = makeProject();
    to = join(project, "airflow");
    return () => rmSync(project, { recursive: true, force: true });
  });

  it("installs the build through one symlink swap, re-deploys nothing, removes a dropped pipeline and nothing else", async () => {
    mkdirSync(join(to, "dags"), { recursive: true });
    writeFileSync(join(to, "dags/hand_written.py"), "# not ours\n");
    const a = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], a.io), a.out.stderr).toBe(0);
    expect(a.out.stdout).toMatch(/deployed release [0-9a-f]{16} to .*: \d+ file\(s\) written, 0 removed, 2 pipeline\(s\): daily_metrics_pipeline, inventory_snapshot/);

    const want = await expectedFiles(project);
    for (const [p, b] of want) expect(readFileSync(join(to, p)).equals(b), p).toBe(true);
    expect(lstatSync(join(to, "dags/inventory_snapshot.py")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(to, "dbt/inventory_snapshot"))).toBe("../.dagspec/current/dbt/inventory_snapshot");
    expect(readlinkSync(join(to, "plugins/dagspec_docs.py"))).toBe("../.dagspec/current/plugins/dagspec_docs.py");
    expect(readlinkSync(join(to, "runtime/src"))).toBe("../.dagspec/current/runtime/src");
    expect(existsSync(join(to, "runtime/src/dagspec_runtime/tasks.py"))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(to, ".dagspec/current/manifest.json"), "utf8"));
    expect(Object.keys(manifest.files).sort()).toEqual([...want.keys()].sort());
    expect(manifest.pipelines.inventory_snapshot.specFile).toBe("specs/inventory.pipeline.ts");
    expect(manifest.files["dags/inventory_snapshot.py"]).toBe(sha256(want.get("dags/inventory_snapshot.py")!));
    const first = readlinkSync(join(to, ".dagspec/current"));

    const b = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], b.io)).toBe(0);
    expect(b.out.stdout).toContain("already holds this build");
    expect(readlinkSync(join(to, ".dagspec/current"))).toBe(first);

    rmSync(join(project, "specs/inventory.pipeline.ts"));
    const c = captureIo(project);
    expect(await run(["deploy", "--to", "airflow", "--json"], c.io), c.out.stderr).toBe(0);
    const res = JSON.parse(c.out.stdout);
    expect(res.deleted).toContain("dags/inventory_snapshot.py");
    expect(res.deleted).toContain("dbt/inventory_snapshot/dbt_project.yml");
    expect(existsSync(join(to, "dags/inventory_snapshot.py"))).toBe(false);
    expect(existsSync(join(to, "dbt/inventory_snapshot"))).toBe(false);
    expect(existsSync(join(to, "dags/daily_metrics_pipeline.py"))).toBe(true);
    expect(readFileSync(join(to, "dags/hand_written.py"), "utf8")).toBe("# not ours\n");
    // The new release is current; the previous one is kept for tasks still reading it.
    expect(readlinkSync(join(to, ".dagspec/current"))).not.toBe(first);
    expect(readdirSync(join(to, ".dagspec/releases")).sort()).toEqual([first.replace("releases/", ""), res.releaseId].sort());
  });

  it("refuses to replace a file it did not deploy, and leaves everything as it was", async () => {
    mkdirSync(join(to, "dags"), { recursive: true });
    writeFileSync(join(to, "dags/daily_metrics_pipeline.py"), "# someone else's\n");
    const a = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], a.io)).toBe(3);
    expect(a.out.stderr).toMatch(/dags\/daily_metrics_pipeline\.py exists and dagspec did not deploy it; move it away/);
    expect(readFileSync(join(to, "dags/daily_metrics_pipeline.py"), "utf8")).toBe("# someone else's\n");
    expect(existsSync(join(to, ".dagspec/current"))).toBe(false);
    expect(existsSync(join(to, ".dagspec/releases"))).toBe(false);
  });

  it("one deploy at a time: a deploy running into the same folder is reported, a dead one's lock is taken over", async () => {
    mkdirSync(join(to, ".dagspec"), { recursive: true });
    // pid 1 always runs; a pid above the kernel's maximum never does.
    writeFileSync(join(to, ".dagspec/deploy.lock"), "1\n");
    const a = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], a.io)).toBe(3);
    expect(a.out.stderr).toContain("another gen deploy (pid 1) is deploying to");
    writeFileSync(join(to, ".dagspec/deploy.lock"), "99999999\n");
    const b = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], b.io), b.out.stderr).toBe(0);
    expect(existsSync(join(to, ".dagspec/deploy.lock"))).toBe(false);
  });

  it("deploys nothing when a spec has errors, and explains usage errors", async () => {
    writeFileSync(join(project, "specs/broken.pipeline.ts"), 'import { definePipeline } from "dagspec";\nexport default definePipeline({ id: "Bad" } as never);\n');
    const a = captureIo(project);
    expect(await run(["deploy", "--to", "airflow"], a.io)).toBe(1);
    expect(a.out.stderr).toContain("the specs do not compile; nothing done");
    expect(existsSync(to)).toBe(false);
    const u = captureIo(project);
    expect(await run(["deploy"], u.io)).toBe(2);
    expect(u.out.stderr).toContain("--to is required");
    const x = captureIo(project);
    expect(await run(["deploy", "--to", "ftp://host/dags"], x.io)).toBe(2);
    expect(x.out.stderr).toContain("only a folder, s3://bucket/prefix or docker can be deployed to");
    const h = captureIo(project);
    expect(await run(["deploy", "--help"], h.io)).toBe(0);
    expect(h.out.stdout).toMatch(/example:\n\s+gen deploy --to/);
  });
});

describe("gen deploy --to docker / gen status --to docker without a running stack", () => {
  // A private engine home of its own and DAGSPEC_DOCKER_PRIVATE: no engine answers for it, even
  // where the machine runs one (test/python/docker deploys into a real stack).
  const saved = { ...process.env };
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "dagspec-docker-none-"));
    Object.assign(process.env, { DAGSPEC_DOCKER_HOME: join(home, "engine"), DAGSPEC_DOCKER_STACK_HOME: join(home, "stack"), DAGSPEC_DOCKER_PRIVATE: "1" });
  });
  afterAll(() => {
    for (const k of ["DAGSPEC_DOCKER_HOME", "DAGSPEC_DOCKER_STACK_HOME", "DAGSPEC_DOCKER_PRIVATE"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(home, { recursive: true, force: true });
  });

  it("says the stack is not up and what to run, exit 3, before compiling anything", async () => {
    const d = captureIo(ROOT);
    expect(await run(["deploy", "--to", "docker"], d.io)).toBe(3);
    expect(d.out.stderr).toMatch(/error: the dockerised stack \(compose project dagspec\) is not up: no Docker engine answers/);
    expect(d.out.stderr).toContain("hint: start it with gen airflow up --docker");
    expect(d.out.stderr).not.toContain("compiling the specs");
    const s = captureIo(ROOT);
    expect(await run(["status", "--to", "docker", "--json"], s.io)).toBe(3);
    expect(s.out.stderr).toContain("is not up");
    expect(s.out.stdout).toBe("");
  });

  it("documents the docker target with an example", async () => {
    const h = captureIo(ROOT);
    expect(await run(["deploy", "--help"], h.io)).toBe(0);
    expect(h.out.stdout).toContain("gen airflow up --docker && gen deploy --to docker");
    const st = captureIo(ROOT);
    expect(await run(["status", "--help"], st.io)).toBe(0);
    expect(st.out.stdout).toContain("gen status --to docker");
  });
});

const noMoto = motoMissing();
if (noMoto) console.warn(`SKIPPED S3 deploy tests: ${noMoto}`);

describe.skipIf(noMoto)("gen deploy --to s3://bucket/prefix (moto)", () => {
  let moto: Moto;
  let s3: S3Client;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    moto = await startMoto();
    const env = { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: "us-east-1" });
    await s3.send(new CreateBucketCommand({ Bucket: "airflow-dags" }));
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    s3?.destroy();
    await moto?.stop();
  });

  async function keys(prefix: string): Promise<string[]> {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: "airflow-dags", Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  }

  it("uploads exactly the built files and a manifest; again, nothing; a deleted spec's objects go, others' stay", async () => {
    const project = makeProject();
    try {
      const want = await expectedFiles(project);
      const a = captureIo(project);
      expect(await run(["deploy", "--to", "s3://airflow-dags/prod", "--json"], a.io), a.out.stderr).toBe(0);
      const first = JSON.parse(a.out.stdout);
      expect(first.uploaded.sort()).toEqual([...want.keys()].sort());
      expect(await keys("prod/")).toEqual([...[...want.keys()].map((k) => `prod/${k}`), "prod/.dagspec/manifest.json"].sort());
      const obj = await s3.send(new GetObjectCommand({ Bucket: "airflow-dags", Key: "prod/dags/inventory_snapshot.py" }));
      expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(want.get("dags/inventory_snapshot.py")!)).toBe(true);
      const manifestObj = await s3.send(new GetObjectCommand({ Bucket: "airflow-dags", Key: "prod/.dagspec/manifest.json" }));
      const manifest = JSON.parse(await manifestObj.Body!.transformToString());
      expect(manifest.dagspecVersion).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
      expect(manifest.pipelines.daily_metrics_pipeline.specHash).toMatch(/^[0-9a-f]{16}$/);
      expect(manifest.files["dbt/inventory_snapshot/dbt_project.yml"]).toBe(sha256(want.get("dbt/inventory_snapshot/dbt_project.yml")!));

      const b = captureIo(project);
      expect(await run(["deploy", "--to", "s3://airflow-dags/prod", "--json"], b.io)).toBe(0);
      const second = JSON.parse(b.out.stdout);
      expect(second.uploaded).toEqual([]);
      expect(second.deleted).toEqual([]);
      expect(second.unchanged).toBe(true);

      // One spec edited: only its pipeline's changed files go up, the DAG file last.
      const inv = join(project, "specs/inventory.pipeline.ts");
      writeFileSync(inv, readFileSync(inv, "utf8").replace('owner: "supply-chain"', 'owner: "supply-chain-ops"'));
      const e = captureIo(project);
      expect(await run(["deploy", "--to", "s3://airflow-dags/prod", "--json"], e.io), e.out.stderr).toBe(0);
      const edited = JSON.parse(e.out.stdout);
      expect(edited.uploaded.length).toBeGreaterThan(0);
      expect(edited.uploaded.every((p: string) => p.includes("inventory_snapshot"))).toBe(true);
      expect(edited.uploaded.at(-1)).toBe("dags/inventory_snapshot.py");

      const st = captureIo(project);
      expect(await run(["status", "--to", "s3://airflow-dags/prod"], st.io), st.out.stdout).toBe(0);
      expect(st.out.stdout).toMatch(/inventory_snapshot\s+current/);

      await s3.send(new PutObjectCommand({ Bucket: "airflow-dags", Key: "prod/dags/not_ours.py", Body: "# someone else's\n" }));
      rmSync(join(project, "specs/inventory.pipeline.ts"));
      const c = captureIo(project);
      expect(await run(["deploy", "--to", "s3://airflow-dags/prod", "--json"], c.io)).toBe(0);
      const third = JSON.parse(c.out.stdout);
      expect(third.uploaded).toEqual([]);
      expect(third.deleted[0]).toBe("dags/inventory_snapshot.py");
      const left = await keys("prod/");
      expect(left.filter((k) => k.includes("inventory_snapshot"))).toEqual([]);
      expect(left).toContain("prod/dags/not_ours.py");
      expect(left).toContain("prod/dags/daily_metrics_pipeline.py");
      const st2 = captureIo(project);
      expect(await run(["status", "--to", "s3://airflow-dags/prod", "--json"], st2.io)).toBe(0);
      expect(JSON.parse(st2.out.stdout).deployment.pipelines.map((x: { id: string }) => x.id)).toEqual(["daily_metrics_pipeline"]);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("a missing bucket fails with exit 3 and says the previous deployment is untouched", async () => {
    const project = makeProject();
    try {
      const a = captureIo(project);
      expect(await run(["deploy", "--to", "s3://no-such-bucket/x"], a.io)).toBe(3);
      expect(a.out.stderr).toMatch(/error: .*no-such-bucket[\s\S]*hint: the previous deployment is untouched/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
