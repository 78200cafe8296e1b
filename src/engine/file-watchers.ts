/**
 * The daemon's watchers outside the base paths, so that other writers reach a running daemon at once instead of
 * at the next cron rescan:
 * - `watchIntents`: the state directory's `models/<escaped model>/intents/*.json` (written by the operator
 *   commands through the intent queue) → the model is enqueued. Nothing but `models/` itself and each intents
 *   folder is watched (journals and verdict files change on every step): plain fs.watch, one inotify watch per
 *   model (a model folder without an intents folder yet is watched until it appears); chokidar with polling.
 * - `watchFile`: one file (TF Serving's models.config), through its directory so that an atomic replacement by
 *   rename is seen; only that name counts.
 * They only signal: what changed is worked out by the reconcile (or the engine's target refresh).
 */
import { watch, type FSWatcher } from "chokidar";
import { existsSync, watch as fsWatch, type FSWatcher as FsWatcher } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";

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
  if (!options.usePolling) {
    const watch = await watchIntentsInotify(root, modelOf, onIntent, options).catch(() => undefined);
    if (watch !== undefined) return watch;
  }
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

/** Throws when `root` cannot be watched (missing, inotify exhausted): the caller falls back to chokidar. */
async function watchIntentsInotify(
  root: string,
  modelOf: (component: string) => string | undefined,
  onIntent: (model: string) => void,
  options: FileWatchOptions,
): Promise<Closable> {
  /** By model folder: the watch of its intents folder, or of the folder itself until the intents folder exists. */
  const watches = new Map<string, { intents: boolean; watcher: FsWatcher }>();
  let closed = false;
  const notify = (component: string): void => {
    const model = modelOf(component);
    if (model !== undefined && !closed) onIntent(model);
  };
  const drop = (component: string): void => {
    watches.get(component)?.watcher.close();
    watches.delete(component);
  };
  const watchDir = (dir: string, onName: (name: string | null) => void): FsWatcher => {
    const watcher = fsWatch(dir, { persistent: true }, (_event, name) => {
      if (!closed) onName(name);
    });
    watcher.on("error", (error) => options.onError?.(error));
    return watcher;
  };
  /** `catchUp`: the folder is new, an intent may have landed in it before the watch. */
  const arm = (component: string, catchUp: boolean): void => {
    if (closed || watches.get(component)?.intents === true) return;
    const folder = join(root, component);
    const intents = join(folder, "intents");
    try {
      const watcher = watchDir(intents, (name) => {
        if (name === "intents" && !existsSync(intents)) {
          drop(component); // the intents folder itself went: wait for it to come back
          arm(component, true);
        } else if (name === null || (name.endsWith(".json") && existsSync(join(intents, name))))
          notify(component);
      });
      drop(component);
      watches.set(component, { intents: true, watcher });
      if (catchUp) notify(component);
    } catch {
      if (watches.has(component)) return;
      try {
        const watcher = watchDir(folder, (name) => {
          if (name === "intents") arm(component, true);
        });
        watches.set(component, { intents: false, watcher });
        if (existsSync(intents)) arm(component, true); // created between the two attempts
      } catch {
        // The model folder is gone (or not a folder): the watch of `root` sees it come back.
      }
    }
  };
  const rootWatch = watchDir(root, (name) => {
    if (name !== null) arm(name, true);
  });
  for (const component of await readdir(root)) arm(component, false);
  return {
    close: async () => {
      closed = true;
      rootWatch.close();
      for (const component of [...watches.keys()]) drop(component);
    },
  };
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
