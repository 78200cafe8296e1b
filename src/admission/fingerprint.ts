/**
 * The fingerprint of a version directory tree: every entry's relative path, and for files their size and mtime
 * (nanoseconds). Two equal digests taken a quiet window apart mean nothing was written in between, which is what
 * the quiet-window admission rule (quiet-window.ts) compares.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface FileStamp {
  /** Relative to the version directory, `/`-separated; directories end with `/`. */
  path: string;
  size: number;
  /** mtime in nanoseconds as a decimal string (directories: omitted, their mtime only mirrors their entries). */
  mtimeNs?: string;
}

export interface TreeFingerprint {
  entries: FileStamp[];
  /** sha256 over the sorted entries: equal digests ⇔ equal trees (by path, size, mtime). */
  digest: string;
}

/**
 * Walks `dir` following symlinks (TF Serving reads through them), each real directory once. Entries that vanish
 * mid-walk are skipped: a tree changing under us simply yields a different digest next time.
 */
export async function fingerprintTree(dir: string): Promise<TreeFingerprint> {
  const entries: FileStamp[] = [];
  const visited = new Set<string>();
  await walk(dir, "", entries, visited);
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash("sha256");
  for (const e of entries) hash.update(`${e.path}\0${e.size}\0${e.mtimeNs ?? ""}\n`);
  return { entries, digest: hash.digest("hex") };
}

async function walk(
  absolute: string,
  relative: string,
  out: FileStamp[],
  visited: Set<string>,
): Promise<void> {
  const dirStats = await stat(absolute, { bigint: true }).catch(() => undefined);
  if (dirStats === undefined) return;
  const identity = `${dirStats.dev}:${dirStats.ino}`;
  if (visited.has(identity)) return;
  visited.add(identity);
  const names = await readdir(absolute).catch(() => [] as string[]);
  for (const name of names) {
    const childAbsolute = join(absolute, name);
    const childRelative = relative === "" ? name : `${relative}/${name}`;
    const stats = await stat(childAbsolute, { bigint: true }).catch(() => undefined);
    if (stats === undefined) continue;
    if (stats.isDirectory()) {
      out.push({ path: `${childRelative}/`, size: 0 });
      await walk(childAbsolute, childRelative, out, visited);
    } else {
      out.push({ path: childRelative, size: Number(stats.size), mtimeNs: stats.mtimeNs.toString() });
    }
  }
}

/** The entry for a relative file path, if the tree has it. */
export function entryOf(fingerprint: TreeFingerprint, path: string): FileStamp | undefined {
  return fingerprint.entries.find((e) => e.path === path);
}
