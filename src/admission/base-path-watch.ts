/**
 * One plain `fs.watch` (inotify, not recursive) on an existing base path: every child created, removed or renamed
 * in or out is one event naming the child, so a version directory renamed in is one event whatever it holds. One
 * inotify watch and a few hundred bytes per model, ready at once (chokidar spends a readdir, a stat per child and
 * its own bookkeeping per instance). Children that are not versions (`9.tmp`, `.rejected-…`, `NOTES.txt`) are
 * dropped. When the base path itself goes (deleted, renamed away, replaced) `onGone` fires once and the watch
 * closes: the caller watches for it to come back.
 */
import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { isVersionDirName } from "./version-dirs.js";

export interface BasePathHandlers {
  /** A version-named child changed: `event` is fs.watch's `rename` (created, removed, moved) or `change`. */
  onChild(event: string, path: string): void;
  onGone(): void;
  onError(error: unknown): void;
}

export interface BasePathWatch {
  close(): void;
}

/** Throws when inotify cannot watch the path (missing, EACCES, ENOSPC: out of watches); the caller falls back. */
export function watchBasePath(basePath: string, inode: bigint, handlers: BasePathHandlers): BasePathWatch {
  let closed = false;
  const ownName = basename(basePath);
  const watcher: FSWatcher = watch(basePath, { persistent: true }, (event, name) => {
    if (closed) return;
    // The watched directory's own events (IN_DELETE_SELF, IN_MOVE_SELF) carry its own name, like a child would.
    if (name === null || name === ownName) void checkGone(event, name);
    else if (isVersionDirName(name)) handlers.onChild(event, join(basePath, name));
  });
  const close = (): void => {
    if (closed) return;
    closed = true;
    watcher.close();
  };
  const checkGone = async (event: string, name: string | null): Promise<void> => {
    const now = await stat(basePath, { bigint: true }).catch(() => undefined);
    if (closed) return;
    if (now === undefined || now.ino !== inode) {
      close();
      handlers.onGone();
    } else if (name === null || isVersionDirName(name)) handlers.onChild(event, join(basePath, name ?? ""));
  };
  watcher.on("error", (error) => {
    if (closed) return;
    close();
    handlers.onError(error);
    handlers.onGone();
  });
  return { close };
}
