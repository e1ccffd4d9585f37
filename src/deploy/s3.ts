/**
 * Deploying to S3 (managed Airflow services read DAGs from a bucket) with @aws-sdk/client-s3. S3 has
 * no atomic multi-object write, so the order carries the guarantees: changed objects are uploaded
 * (dbt projects and runtime before DAG files, so no DAG appears before what it runs), removed ones
 * deleted (DAG files first), and the manifest is written last as the commit point. An object is
 * uploaded only when its content differs (the listing's ETag is the MD5 of a single-part upload; the
 * previous manifest's sha256 covers stores whose ETag is not). Only objects a previous manifest lists
 * are ever deleted. The endpoint comes from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (MinIO, moto),
 * credentials from the SDK's usual chain.
 */
import { createHash } from "node:crypto";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { Bundle } from "./bundle.ts";
import { dagsLast, makeManifest, MANIFEST_PATH, parseManifest, serializeManifest, type DeployManifest } from "./manifest.ts";
import type { DeployResult, DeployTarget } from "./deploy-target.ts";

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the bucket root. */
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`${url} is not s3://bucket[/prefix]`);
  return { bucket: m[1]!, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

const CONTENT_TYPES: Record<string, string> = { py: "text/x-python", sql: "text/plain", yml: "application/yaml", yaml: "application/yaml", json: "application/json", md: "text/markdown" };
const contentType = (p: string) => CONTENT_TYPES[p.slice(p.lastIndexOf(".") + 1)] ?? "application/octet-stream";
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const PARALLEL = 8;

export class S3DeployError extends Error {}

export class S3Target implements DeployTarget {
  readonly label: string;
  private readonly client: S3Client;

  constructor(private readonly loc: S3Location, env: NodeJS.ProcessEnv = process.env) {
    this.label = `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ""}`;
    const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    this.client = new S3Client({
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // S3-compatible stores differ in their support of the newer default checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private key(path: string) {
    return this.loc.prefix ? `${this.loc.prefix}/${path}` : path;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof NoSuchKey) throw err;
      const name = err instanceof S3ServiceException ? err.name : (err as Error).name;
      throw new S3DeployError(`${what} on ${this.label} failed: ${name}: ${(err as Error).message}`);
    }
  }

  async readManifest(): Promise<DeployManifest | null> {
    try {
      const res = await this.call("reading the deploy manifest", () => this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(MANIFEST_PATH) })));
      return parseManifest(await res.Body!.transformToString("utf8"), `${this.label}/${MANIFEST_PATH}`);
    } catch (err) {
      if (err instanceof NoSuchKey) return null;
      throw err;
    }
  }

  /** Key -> ETag (without quotes) of every object under the prefix. */
  private async listing(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let token: string | undefined;
    do {
      const res = await this.call("listing objects", () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.loc.prefix ? `${this.loc.prefix}/` : undefined, ContinuationToken: token })),
      );
      for (const o of res.Contents ?? []) if (o.Key) out.set(o.Key, (o.ETag ?? "").replaceAll('"', ""));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async deploy(bundle: Bundle, onProgress?: (done: number, total: number) => void): Promise<DeployResult> {
    const manifest = makeManifest(bundle);
    const previous = await this.readManifest();
    const listed = await this.listing();
    const toUpload = dagsLast(bundle.files.keys()).filter((p) => {
      const etag = listed.get(this.key(p));
      if (etag === undefined) return true;
      return etag !== md5(bundle.files.get(p)!) && previous?.files[p] !== manifest.files[p];
    });
    const removed = previous ? Object.keys(previous.files).filter((p) => !(p in manifest.files)).sort() : [];
    // Deletions the other way round: a removed pipeline's DAG goes before what it ran.
    const toDelete = [...removed.filter((p) => p.startsWith("dags/")), ...removed.filter((p) => !p.startsWith("dags/"))];

    // Uploads in two waves, so no DAG file is written before the dbt projects and runtime it uses.
    let done = 0;
    for (const wave of [toUpload.filter((p) => !p.startsWith("dags/")), toUpload.filter((p) => p.startsWith("dags/"))]) {
      await pool(wave, PARALLEL, async (p) => {
        const body = bundle.files.get(p)!;
        await this.call(`uploading ${p}`, () =>
          this.client.send(
            new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(p), Body: body, ContentType: contentType(p), Metadata: { "dagspec-sha256": manifest.files[p]! } }),
          ),
        );
        onProgress?.(++done, toUpload.length);
      });
    }
    for (let i = 0; i < toDelete.length; i += 1000) {
      const batch = toDelete.slice(i, i + 1000);
      const res = await this.call("deleting removed objects", () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.loc.bucket, Delete: { Objects: batch.map((p) => ({ Key: this.key(p) })), Quiet: true } })),
      );
      if (res.Errors?.length) throw new S3DeployError(`deleting ${res.Errors.map((e) => e.Key).join(", ")} failed: ${res.Errors[0]?.Message ?? ""}`);
    }
    const text = serializeManifest(manifest);
    const manifestCurrent = previous !== null && serializeManifest(previous) === text && listed.has(this.key(MANIFEST_PATH));
    if (!manifestCurrent) {
      await this.call("writing the deploy manifest", () =>
        this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(MANIFEST_PATH), Body: text, ContentType: "application/json" })),
      );
    }
    return {
      target: this.label,
      releaseId: manifest.releaseId,
      uploaded: toUpload,
      deleted: toDelete,
      unchanged: !toUpload.length && !toDelete.length && manifestCurrent,
      manifest,
    };
  }
}

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
