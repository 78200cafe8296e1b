/**
 * Noticing that models.config was replaced between our read and our rename (an operator's editor saves by writing
 * a temp file and renaming it over the original, without our lock). A rename has no compare-and-swap in POSIX, so
 * the best a writer can do is compare the file's identity (device, inode, size, mtime in ns) as read with the one
 * found right before its own rename, and start over from a fresh read when they differ. What is left is the gap
 * between that last stat and the rename itself (microseconds): an edit renamed in there is overwritten.
 */
import { statSync, type BigIntStats } from "node:fs";
import { RolloutError } from "../errors.js";

export interface FileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

export function stampOf(stats: BigIntStats): FileStamp {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs };
}

/**
 * The stamp of `path` now, or undefined when it does not exist. Synchronous on purpose: the check right before a
 * rename must not yield to the event loop in between.
 */
export function currentStampSync(path: string): FileStamp | undefined {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stats === undefined ? undefined : stampOf(stats);
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** The target was replaced or rewritten after it was read: the write was abandoned, nothing was changed. */
export class ChangedUnderneathError extends RolloutError {
  constructor(readonly path: string) {
    super(`${path} changed after it was read (someone else wrote it); not overwritten`, {
      where: path,
      hint: "edit models.config through tfs-rollout commands (they take the daemon's config lock), or retry",
    });
  }
}

/** How many times a read-edit-write is started over when the file changed underneath it. */
export const CHANGED_UNDERNEATH_ATTEMPTS = 5;

/**
 * Runs `attempt` (read, edit, write with `unchangedSince`) again from scratch while it fails with
 * ChangedUnderneathError, at most `attempts` times in all; the last such error is rethrown.
 */
export async function retryWhenChangedUnderneath<T>(
  attempt: () => Promise<T>,
  attempts = CHANGED_UNDERNEATH_ATTEMPTS,
): Promise<T> {
  for (let left = attempts; ; left--) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ChangedUnderneathError) || left <= 1) throw error;
    }
  }
}
