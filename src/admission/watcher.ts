/**
 * Change detection for version directories. It never decides anything: every signal becomes
 * `enqueue(model, reason)`, and the daemon's reconcile (scanner.ts + the controller's plan) works out what changed.
 *
 * Signals:
 * - one chokidar watcher per model on its base_path, depth 0 (children only, never whole trees), ignoring names
 *   TF Serving does not count as versions (`123.tmp`, `.rejected-…`), `ignoreInitial`;
 * - one chokidar watcher per PENDING version directory (depth 1: the files and `variables/`, `assets.extra/`
 *   arriving during a copy), set by the daemon after each scan with `setPending` and released once admitted;
 * - a cron rescan (node-cron, default every 30 s) of every model, for what events miss (NFS/FUSE without
 *   polling, a base path created after start, an event lost under load);
 * - re-check timers (`recheckAfter`): a tree becoming quiet fires no event, so the quiet-window state machine
 *   says when to look again.
 * `usePolling` switches every chokidar watcher to stat polling, for NFS and FUSE mounts where inotify is blind.
 *
 * inotify budget (measured in test/admission-watcher.test.ts): one watch per base path plus, per pending
 * directory, one per directory in it up to depth 1 (typically 3: the version dir, variables/, assets.extra/).
 * Proportional to models + pending directories, never to the versions kept on disk.
 */
import { watch, type FSWatcher } from "chokidar";
import cron from "node-cron";
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { isVersionDirName } from "./version-dirs.js";

export interface WatchTarget {
  model: string;
  basePath: string;
}

export type EnqueueReason =
  | { source: "base-path"; event: string; path: string }
  | { source: "pending-dir"; event: string; path: string }
  | { source: "rescan" }
  | { source: "recheck" }
  | { source: "watch-error"; message: string };

export type Enqueue = (model: string, reason: EnqueueReason) => void;

/** Starts a periodic task; returns how to stop it. Injected in tests to fire ticks by hand. */
export type RescanScheduler = (expression: string, tick: () => void) => { stop(): void | Promise<void> };

export interface WatcherOptions {
  enqueue: Enqueue;
  /** Stat polling instead of inotify (NFS, FUSE). */
  usePolling?: boolean;
  /** Polling interval, ms (default 1000). */
  pollIntervalMs?: number;
  /** node-cron expression of the rescan (default every 30 s). */
  rescanCron?: string;
  scheduleRescan?: RescanScheduler;
}

export const DEFAULT_RESCAN_CRON = "*/30 * * * * *";
const DEFAULT_POLL_INTERVAL_MS = 1000;

export const nodeCronScheduler: RescanScheduler = (expression, tick) => {
  const task = cron.schedule(expression, tick, { name: "tfs-rollout-rescan", noOverlap: true });
  return { stop: () => task.destroy() };
};

export function checkRescanCron(expression: string): void {
  if (cron.validate(expression)) return;
  throw new UsageError(`invalid rescan cron expression ${JSON.stringify(expression)}`, {
    where: "watch.rescan_cron",
    hint: 'use a node-cron expression with optional seconds, e.g. "*/30 * * * * *" (every 30 s) or "*/1 * * * *" (every minute)',
  });
}

interface BaseWatch {
  target: WatchTarget;
  watcher: FSWatcher;
  /** The base path existed when watched; otherwise chokidar only sees it appear, not its children. */
  armed: boolean;
}

export class VersionWatcher {
  private readonly bases = new Map<string, BaseWatch>();
  private readonly pending = new Map<string, Map<string, FSWatcher>>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /**
   * Every chokidar instance not yet closed. setTargets/setPending/rearm create watchers after awaits, so close()
   * may run in between: it closes whatever is live, and one created after it is closed at once (else the process
   * would never exit).
   */
  private readonly live = new Set<FSWatcher>();
  private markClosed: () => void = () => undefined;
  private readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));
  private rescan: { stop(): void | Promise<void> } | undefined;
  private closed = false;

  private constructor(private readonly options: WatcherOptions) {}

  /** Watches every target (resolved once all watchers are ready) and starts the rescan schedule. */
  static async start(targets: readonly WatchTarget[], options: WatcherOptions): Promise<VersionWatcher> {
    const expression = options.rescanCron ?? DEFAULT_RESCAN_CRON;
    checkRescanCron(expression);
    const self = new VersionWatcher(options);
    try {
      await self.setTargets(targets);
      self.rescan = (options.scheduleRescan ?? nodeCronScheduler)(expression, () => void self.rescanNow());
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  /** The models to watch (after a SIGHUP or a models.config change): adds, re-targets and drops watchers. */
  async setTargets(targets: readonly WatchTarget[]): Promise<void> {
    const wanted = new Map(targets.map((t) => [t.model, t]));
    for (const [model, base] of [...this.bases]) {
      if (wanted.get(model)?.basePath !== base.target.basePath) {
        this.bases.delete(model);
        await this.closeWatcher(base.watcher);
        await this.setPending(model, []);
      }
    }
    await Promise.all(
      [...wanted.values()].filter((t) => !this.bases.has(t.model)).map((t) => this.watchBase(t)),
    );
  }

  /** The pending version directories of a model: each is watched (depth 1) until it leaves this list. */
  async setPending(model: string, paths: readonly string[]): Promise<void> {
    if (this.closed) return;
    const current = this.pending.get(model) ?? new Map<string, FSWatcher>();
    this.pending.set(model, current);
    const wanted = new Set(paths.map((p) => resolve(p)));
    for (const [path, watcher] of [...current]) {
      if (!wanted.has(path)) {
        current.delete(path);
        await this.closeWatcher(watcher);
      }
    }
    const added = [...wanted].filter((p) => !current.has(p));
    await Promise.all(
      added.map(async (path) => {
        const watcher = this.chokidar(path, 1, () => false);
        current.set(path, watcher);
        watcher.on("all", (event, changed) =>
          this.signal(model, { source: "pending-dir", event, path: changed }),
        );
        watcher.on("error", (error) => this.watchError(model, error));
        await this.ready(watcher);
      }),
    );
    if (current.size === 0) this.pending.delete(model);
  }

  /** Enqueue the model again after `ms` (the earliest request wins); cleared by close(). */
  recheckAfter(model: string, ms: number): void {
    if (this.closed) return;
    const at = Date.now() + Math.max(0, ms);
    const existing = this.timers.get(model);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.timers.delete(model);
        this.signal(model, { source: "recheck" });
      },
      Math.max(0, ms),
    );
    this.timers.set(model, { at, timer });
  }

  /** One rescan: re-arms base watchers whose path appeared and enqueues every model. Also the cron tick. */
  async rescanNow(): Promise<void> {
    if (this.closed) return;
    for (const base of [...this.bases.values()]) {
      if (!base.armed && existsSync(base.target.basePath)) await this.rearm(base.target);
    }
    for (const model of this.bases.keys()) this.signal(model, { source: "rescan" });
  }

  /** What is being watched: base paths and pending directories (for status output and the inotify budget). */
  watching(): { basePaths: number; pendingDirs: number } {
    let pendingDirs = 0;
    for (const dirs of this.pending.values()) pendingDirs += dirs.size;
    return { basePaths: this.bases.size, pendingDirs };
  }

  /** Releases every watcher, the cron task and the timers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.rescan?.stop();
    this.rescan = undefined;
    const watchers = [...this.bases.values()].map((b) => b.watcher);
    for (const dirs of this.pending.values()) watchers.push(...dirs.values());
    this.bases.clear();
    this.pending.clear();
    for (const w of this.live) watchers.push(w);
    this.live.clear();
    await Promise.all([...new Set(watchers)].map((w) => w.close()));
  }

  private async watchBase(target: WatchTarget): Promise<void> {
    const basePath = resolve(target.basePath);
    const armed = existsSync(basePath);
    // Only the base path itself and its version-named children: no watcher is spent on anything else.
    const ignored = (path: string): boolean => {
      const absolute = resolve(path);
      if (absolute === basePath || !absolute.startsWith(basePath)) return false;
      return !(dirname(absolute) === basePath && isVersionDirName(basename(absolute)));
    };
    const watcher = this.chokidar(basePath, 0, ignored);
    const base: BaseWatch = { target, watcher, armed };
    this.bases.set(target.model, base);
    watcher.on("all", (event, path) => {
      if (resolve(path) === basePath) {
        // The base path itself appeared (or was re-created): watch its children from now on.
        if (event === "addDir" && !base.armed) void this.rearm(target);
        if (event === "unlinkDir") base.armed = false;
      }
      this.signal(target.model, { source: "base-path", event, path });
    });
    watcher.on("error", (error) => this.watchError(target.model, error));
    await this.ready(watcher);
  }

  private async rearm(target: WatchTarget): Promise<void> {
    const old = this.bases.get(target.model);
    if (this.closed || old === undefined || old.armed) return;
    old.armed = true; // claimed: a second rearm in flight stops here
    await this.closeWatcher(old.watcher);
    if (this.closed) return;
    await this.watchBase(target);
    this.signal(target.model, { source: "rescan" });
  }

  /** Resolves when the watcher is ready, or when this VersionWatcher is closed (a closed one never gets ready). */
  private ready(watcher: FSWatcher): Promise<void> {
    return Promise.race([ready(watcher), this.closedPromise]);
  }

  private async closeWatcher(watcher: FSWatcher): Promise<void> {
    this.live.delete(watcher);
    await watcher.close();
  }

  private chokidar(path: string, depth: number, ignored: (path: string) => boolean): FSWatcher {
    const watcher = this.createChokidar(path, depth, ignored);
    if (this.closed) void watcher.close();
    else this.live.add(watcher);
    return watcher;
  }

  private createChokidar(path: string, depth: number, ignored: (path: string) => boolean): FSWatcher {
    return watch(path, {
      depth,
      ignoreInitial: true,
      ignored,
      usePolling: this.options.usePolling ?? false,
      interval: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      binaryInterval: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      persistent: true,
    });
  }

  private signal(model: string, reason: EnqueueReason): void {
    if (!this.closed) this.options.enqueue(model, reason);
  }

  private watchError(model: string, error: unknown): void {
    this.signal(model, {
      source: "watch-error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

function ready(watcher: FSWatcher): Promise<void> {
  return new Promise((resolveReady) => watcher.once("ready", () => resolveReady()));
}
