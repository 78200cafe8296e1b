/**
 * The daemon's watchers outside the base paths, so that other writers reach a running daemon at once instead of
 * at the next cron rescan:
 * - `watchIntents`: the state directory's `models/<escaped model>/intents/*.json` (written by the operator
 *   commands through the intent queue) → the model is enqueued. Depth 2 below `models/`, and nothing but the
 *   intents folders is watched (journals and verdict files change on every step).
 * - `watchFile`: one file (TF Serving's models.config), through its directory so that an atomic replacement by
 *   rename is seen; only that name counts.
 * They only signal: what changed is worked out by the reconcile (or the engine's target refresh).
 */
import { watch, type FSWatcher } from "chokidar";
import { watch as fsWatch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, relative, resolve, sep } from "node:path";

export interface FileWatchOptions {
  usePolling: boolean;
  pollIntervalMs: number;
  onError?(error: unknown): void;
}

export interface Closable {
  close(): Promise<void>;
}

/** Watches `<modelsDir>/<component>/intents/*.json`; `modelOf` maps the escaped component back to a model. */
export async function watchIntents(
  modelsDir: string,
  modelOf: (component: string) => string | undefined,
  onIntent: (model: string) => void,
  options: FileWatchOptions,
): Promise<Closable> {
  const root = resolve(modelsDir);
  const parts = (path: string): string[] => {
    const rel = relative(root, resolve(path));
    return rel === "" ? [] : rel.split(sep);
  };
  const ignored = (path: string): boolean => {
    const p = parts(path);
    if (p.length === 0 || p.length === 1) return false;
    if (p[1] !== "intents") return true;
    return p.length === 3 ? !p[2]!.endsWith(".json") : p.length > 3;
  };
  const watcher = watch(root, { ...chokidarOptions(options), depth: 2, ignored });
  watcher.on("all", (event, path) => {
    const p = parts(path);
    if ((event !== "add" && event !== "change") || p.length !== 3) return;
    const model = modelOf(p[0]!);
    if (model !== undefined) onIntent(model);
  });
  return ready(watcher, options);
}

/**
 * Calls `onChange` whenever `file` is created, changed or replaced (atomic rename included). Plain fs.watch on the
 * directory (inotify reports every child by name, whatever inode it now is), or stat polling of the path; chokidar
 * watches a file's inode, which an atomic replacement leaves behind.
 */
export async function watchFile(
  file: string,
  onChange: () => void,
  options: FileWatchOptions,
): Promise<Closable> {
  const target = resolve(file);
  if (options.usePolling) {
    let last = await statKey(target);
    let polling = false;
    const timer = setInterval(() => {
      if (polling) return;
      polling = true;
      void statKey(target).then((key) => {
        polling = false;
        if (key !== last) {
          last = key;
          onChange();
        }
      });
    }, options.pollIntervalMs);
    return { close: async () => clearInterval(timer) };
  }
  const name = basename(target);
  const watcher = fsWatch(dirname(target), { persistent: true }, (_event, changed) => {
    if (changed === null || changed.toString() === name) onChange();
  });
  watcher.on("error", (error) => options.onError?.(error));
  return { close: async () => watcher.close() };
}

/** What changes when a file is written or replaced: inode, size, mtime ("missing" when it is not there). */
async function statKey(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return "missing";
  }
}

function chokidarOptions(options: FileWatchOptions) {
  return {
    ignoreInitial: true,
    usePolling: options.usePolling,
    interval: options.pollIntervalMs,
    binaryInterval: options.pollIntervalMs,
    persistent: true,
  };
}

async function ready(watcher: FSWatcher, options: FileWatchOptions): Promise<Closable> {
  watcher.on("error", (error) => options.onError?.(error));
  await new Promise<void>((resolveReady) => watcher.once("ready", () => resolveReady()));
  return { close: () => watcher.close() };
}
