/**
 * Deploying into an Airflow installation's folders, atomically. Each deployment is written in full
 * to `<to>/.dagspec/releases/<release id>/` (with its manifest), then `<to>/.dagspec/current` is
 * swapped to it with one rename of a symlink: the commit point. The folders Airflow reads hold
 * stable symlinks through `current` (`dags/<id>.py`, `dbt/<id>`, `plugins/<plugin>.py`, `runtime/src`, ...), so
 * a reader sees the whole old or the whole new deployment, never a mix. A pipeline's links are
 * removed before the swap that drops it and created after the swap that adds it. Nothing is touched
 * that dagspec did not create: an existing path in the way is reported, not replaced.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Bundle } from "./bundle.ts";
import { makeManifest, MANIFEST_PATH, parseManifest, serializeManifest, type DeployManifest } from "./manifest.ts";
import type { DeployResult, DeployTarget } from "./deploy-target.ts";

const STATE = ".dagspec";
/** Releases kept besides the current one: a task started before a deploy may still read the previous one. */
const KEEP_PREVIOUS = 1;

export class DeployConflict extends Error {}

/** The unit Airflow sees for a path: `dags/x.py`, `dbt/<id>`, `plugins/x.py`, `runtime/src`. */
export function entryOf(path: string): string {
  const parts = path.split("/");
  return parts.slice(0, 2).join("/");
}

export class FolderTarget implements DeployTarget {
  readonly label: string;
  constructor(readonly root: string) {
    this.label = root;
  }

  private currentLink() {
    return join(this.root, STATE, "current");
  }

  async readManifest(): Promise<DeployManifest | null> {
    const file = join(this.currentLink(), "manifest.json");
    if (!existsSync(file)) return null;
    return parseManifest(readFileSync(file, "utf8"), file);
  }

  /** The symlink target an entry must have: through `current`, relative so the tree can move. */
  private linkTarget(entry: string): string {
    return relative(dirname(join(this.root, entry)), join(this.currentLink(), entry));
  }

  private isOurs(entry: string): boolean {
    const p = join(this.root, entry);
    try {
      return lstatSync(p).isSymbolicLink() && readlinkSync(p) === this.linkTarget(entry);
    } catch {
      return false;
    }
  }

  async deploy(bundle: Bundle): Promise<DeployResult> {
    mkdirSync(join(this.root, STATE), { recursive: true });
    const unlock = lock(join(this.root, STATE, "deploy.lock"), this.root);
    try {
      return await this.deployLocked(bundle);
    } finally {
      unlock();
    }
  }

  private async deployLocked(bundle: Bundle): Promise<DeployResult> {
    const manifest = makeManifest(bundle);
    const previous = await this.readManifest();
    const entries = new Set([...bundle.files.keys()].map(entryOf));
    const before = new Set(previous ? Object.keys(previous.files).map(entryOf) : []);
    const blocked = [...entries].filter((e) => existsSync(join(this.root, e)) && !this.isOurs(e)).sort();
    if (blocked.length) {
      throw new DeployConflict(`${blocked.map((b) => join(this.root, b)).join(", ")} exist${blocked.length === 1 ? "s" : ""} and dagspec did not deploy ${blocked.length === 1 ? "it" : "them"}; move ${blocked.length === 1 ? "it" : "them"} away or deploy to another folder`);
    }

    const releases = join(this.root, STATE, "releases");
    const release = join(releases, manifest.releaseId);
    const unchanged = previous?.releaseId === manifest.releaseId;
    const changed = Object.keys(manifest.files).filter((p) => previous?.files[p] !== manifest.files[p]);
    const removed = previous ? Object.keys(previous.files).filter((p) => !(p in manifest.files)).sort() : [];
    if (!existsSync(release)) {
      const tmp = `${release}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      for (const [p, b] of bundle.files) {
        mkdirSync(dirname(join(tmp, p)), { recursive: true });
        writeFileSync(join(tmp, p), b);
      }
      writeFileSync(join(tmp, "manifest.json"), serializeManifest(manifest));
      renameSync(tmp, release);
    }
    // Links of pipelines that leave go first: their DAG disappears, then their content.
    for (const e of [...before].filter((e) => !entries.has(e)).sort()) if (this.isOurs(e)) unlinkSync(join(this.root, e));
    if (!unchanged || !existsSync(this.currentLink())) swapSymlink(this.currentLink(), relative(join(this.root, STATE), release));
    for (const e of [...entries].sort()) {
      if (this.isOurs(e)) continue;
      mkdirSync(dirname(join(this.root, e)), { recursive: true });
      swapSymlink(join(this.root, e), this.linkTarget(e));
    }
    this.prune(releases, manifest.releaseId, previous?.releaseId);
    return {
      target: this.label,
      releaseId: manifest.releaseId,
      uploaded: unchanged ? [] : changed.sort(),
      deleted: removed,
      unchanged: !changed.length && !removed.length && unchanged,
      manifest,
    };
  }

  /** Old releases are dagspec's own (under .dagspec/releases); keep the current and the one before it. */
  private prune(releases: string, current: string, previous: string | undefined) {
    const keep = new Set([current, ...(previous && KEEP_PREVIOUS > 0 ? [previous] : [])]);
    for (const name of readdirSync(releases)) if (!keep.has(name)) rmSync(join(releases, name), { recursive: true, force: true });
  }
}

/**
 * One deploy at a time per target (two CI jobs finishing together): a lock file holding the pid. A
 * lock left by a process that no longer runs (a killed deploy) is taken over. `where` names the
 * target in the refusal.
 */
export function lock(path: string, where: string): () => void {
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const pid = Number(readFileSync(path, "utf8").trim());
    if (pid && pid !== process.pid && running(pid)) throw new DeployConflict(`another gen deploy (pid ${pid}) is deploying to ${where}; wait for it to finish`);
    writeFileSync(path, `${process.pid}\n`);
  }
  return () => rmSync(path, { force: true });
}

/** Signal 0 only asks whether the process exists. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Points `link` at `target` atomically: a new symlink beside it, renamed over it. */
function swapSymlink(link: string, target: string) {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

export { MANIFEST_PATH };
