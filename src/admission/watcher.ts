/**
 * Change detection for version directories. It never decides anything: every signal becomes
 * `enqueue(model, reason)`, and the daemon's reconcile (scanner.ts + the controller's plan) works out what changed.
 *
 * Signals:
 * - one plain `fs.watch` per model on its base_path (base-path-watch.ts: inotify, children only, never whole
 *   trees), ignoring names TF Serving does not count as versions (`123.tmp`, `.rejected-…`). chokidar instead
 *   with `usePolling` (stat polling, for NFS and FUSE mounts where inotify is blind), while a base path does not
 *   exist (it reports the path appearing; the fs.watch is then armed), and when fs.watch cannot start;
 * - one chokidar watcher per PENDING version directory (depth 1: the files and `variables/`, `assets.extra/`
 *   arriving during a copy), set by the daemon after each scan with `setPending` and released once admitted;
 * - a cheap rescan (node-cron, default every 30 s) for what events miss (NFS/FUSE without polling, a base path
 *   created after start, an event lost under load): one stat per base path (base-listing.ts); only the models
 *   whose base path changed since the last look, or with a directory still pending, are enqueued;
 * - a full resync (default every 30 min) enqueues every model: what no listing shows (TF Serving restarted and
 *   lost its state, a version directory rewritten in place on a mount without events). RESYNC_BATCH models at a
 *   time, one batch every RESYNC_BATCH_MS: the reconciler's queue is first come first served, and a thousand
 *   models at once would hold up a version published meanwhile by seconds;
 * - re-check timers (`recheckAfter`): a tree becoming quiet fires no event, so the quiet-window state machine
 *   says when to look again.
 *
 * inotify budget (measured in test/admission-watcher.test.ts): one watch per base path plus, per pending
 * directory, one per directory in it up to depth 1 (typically 3: the version dir, variables/, assets.extra/).
 * Proportional to models + pending directories, never to the versions kept on disk.
 */
import { watch, type FSWatcher } from "chokidar";
import cron from "node-cron";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { baseListingKey, listingChanged } from "./base-listing.js";
import { watchBasePath } from "./base-path-watch.js";
import { isVersionDirName } from "./version-dirs.js";

export interface WatchTarget {
  model: string;
  basePath: string;
}

export type EnqueueReason =
  | { source: "base-path"; event: string; path: string }
  | { source: "pending-dir"; event: string; path: string }
  | { source: "rescan" }
  | { source: "resync" }
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
  /** node-cron expression of the cheap rescan (default every 30 s). */
  rescanCron?: string;
  /** node-cron expression of the full resync, every model enqueued (default every 30 min). */
  resyncCron?: string;
  scheduleRescan?: RescanScheduler;
  /** The clock a base path's mtime is compared with (tests). */
  now?: () => number;
}

export const DEFAULT_RESCAN_CRON = "*/30 * * * * *";
export const DEFAULT_RESYNC_CRON = "0 */30 * * * *";
const DEFAULT_POLL_INTERVAL_MS = 1000;
const RESYNC_BATCH = 20;
const RESYNC_BATCH_MS = 1000;

export const nodeCronScheduler: RescanScheduler = (expression, tick) => {
  const task = cron.schedule(expression, tick, { name: "tfs-rollout-rescan", noOverlap: true });
  return { stop: () => task.destroy() };
};

export function checkRescanCron(expression: string, key = "watch.rescan_cron"): void {
  if (cron.validate(expression)) return;
  throw new UsageError(
    `invalid ${key.split(".")[1]!.replace("_cron", "")} cron expression ${JSON.stringify(expression)}`,
    {
      where: key,
      hint: 'use a node-cron expression with optional seconds, e.g. "*/30 * * * * *" (every 30 s) or "*/10 * * * *" (every 10 minutes)',
    },
  );
}

interface Closer {
  close(): Promise<void> | void;
}

interface BaseWatch {
  target: WatchTarget;
  watch: Closer;
  /** The base path existed when watched; otherwise chokidar only reports it appearing. */
  armed: boolean;
  /** baseListingKey at the last look (arming or rescan). */
  listing: string;
}

export class VersionWatcher {
  private readonly bases = new Map<string, BaseWatch>();
  /** The targets asked for by the last setTargets: a watch armed after its target changed is dropped. */
  private readonly wanted = new Map<string, WatchTarget>();
  private readonly rewatching = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, Map<string, FSWatcher>>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /**
   * Every watch not yet closed. setTargets/setPending/rewatch create watches after awaits, so close() may run in
   * between: it closes whatever is live, and one created after it is closed at once (else the process would never
   * exit).
   */
  private readonly live = new Set<Closer>();
  private markClosed: () => void = () => undefined;
  private readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));
  private schedules: { stop(): void | Promise<void> }[] = [];
  private rescanning: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: WatcherOptions) {}

  /** Watches every target (resolved once all watchers are ready) and starts the rescan and resync schedules. */
  static async start(targets: readonly WatchTarget[], options: WatcherOptions): Promise<VersionWatcher> {
    const rescan = options.rescanCron ?? DEFAULT_RESCAN_CRON;
    const resync = options.resyncCron ?? DEFAULT_RESYNC_CRON;
    checkRescanCron(rescan);
    checkRescanCron(resync, "watch.resync_cron");
    const self = new VersionWatcher(options);
    try {
      await self.setTargets(targets);
      const schedule = options.scheduleRescan ?? nodeCronScheduler;
      self.schedules = [
        schedule(rescan, () => void self.rescanNow()),
        schedule(resync, () => self.resyncNow()),
      ];
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  /** The models to watch (after a SIGHUP or a models.config change): adds, re-targets and drops watchers. */
  async setTargets(targets: readonly WatchTarget[]): Promise<void> {
    await Promise.all(this.rewatching.values());
    this.wanted.clear();
    for (const target of targets) this.wanted.set(target.model, target);
    for (const [model, base] of [...this.bases]) {
      if (this.wanted.get(model)?.basePath !== base.target.basePath) {
        this.bases.delete(model);
        await this.closeWatch(base.watch);
        await this.setPending(model, []);
      }
    }
    await Promise.all(
      [...this.wanted.values()].filter((t) => !this.bases.has(t.model)).map((t) => this.watchBase(t)),
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
        await this.closeWatch(watcher);
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

  /**
   * The cheap rescan (the cron tick): arms the watch of base paths that appeared, and enqueues the models whose
   * base path changed since the last look or that have a directory pending. One at a time, in order: a thousand
   * models cost a thousand stat calls, never a burst of them.
   */
  rescanNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.rescanning ??= this.rescanBases().finally(() => (this.rescanning = undefined));
    return this.rescanning;
  }

  /** The full resync (its cron tick): every model is enqueued, RESYNC_BATCH at a time. */
  resyncNow(): void {
    if (this.closed || this.resyncTimer !== undefined) return;
    const models = [...this.bases.keys()];
    const batch = (): void => {
      this.resyncTimer = undefined;
      for (const model of models.splice(0, RESYNC_BATCH)) this.signal(model, { source: "resync" });
      if (models.length > 0 && !this.closed) this.resyncTimer = setTimeout(batch, RESYNC_BATCH_MS);
    };
    batch();
  }

  /** What is being watched: base paths and pending directories (for status output and the inotify budget). */
  watching(): { basePaths: number; pendingDirs: number } {
    let pendingDirs = 0;
    for (const dirs of this.pending.values()) pendingDirs += dirs.size;
    return { basePaths: this.bases.size, pendingDirs };
  }

  /** Releases every watcher, the cron tasks and the timers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.resyncTimer);
    await Promise.all(this.schedules.map((s) => s.stop()));
    this.schedules = [];
    const watches: Closer[] = [...this.bases.values()].map((b) => b.watch);
    for (const dirs of this.pending.values()) watches.push(...dirs.values());
    this.bases.clear();
    this.pending.clear();
    for (const w of this.live) watches.push(w);
    this.live.clear();
    await Promise.all([...new Set(watches)].map((w) => w.close()));
  }

  private async rescanBases(): Promise<void> {
    for (const base of [...this.bases.values()]) {
      if (this.closed) return;
      const { model, basePath } = base.target;
      if (!base.armed) {
        if (existsSync(basePath)) await this.rewatch(base.target);
        continue;
      }
      const listing = await baseListingKey(resolve(basePath), this.now());
      if (this.bases.get(model) !== base) continue;
      const changed = listingChanged(base.listing, listing);
      base.listing = listing;
      if (changed || this.pending.has(model)) this.signal(model, { source: "rescan" });
    }
  }

  private async watchBase(target: WatchTarget): Promise<void> {
    const basePath = resolve(target.basePath);
    const info = await stat(basePath, { bigint: true }).catch(() => undefined);
    if (!this.stillWanted(target)) return;
    let watch: Closer | undefined;
    if (!this.options.usePolling && info?.isDirectory()) {
      try {
        watch = watchBasePath(basePath, info.ino, {
          onChild: (event, path) => this.signal(target.model, { source: "base-path", event, path }),
          onGone: () => {
            const base = this.bases.get(target.model);
            if (base === undefined || base.watch !== watch) return;
            base.armed = false;
            this.signal(target.model, { source: "base-path", event: "unlinkDir", path: basePath });
            void this.rewatch(target);
          },
          onError: (error) => this.watchError(target.model, error),
        });
        this.live.add(watch);
      } catch (error) {
        this.watchError(target.model, error); // out of inotify watches, permissions: chokidar below
      }
    }
    watch ??= await this.chokidarBase(target, basePath);
    if (watch === undefined) return;
    if (!this.stillWanted(target)) return this.closeWatch(watch);
    const base: BaseWatch = { target, watch, armed: info !== undefined, listing: "" };
    this.bases.set(target.model, base);
    base.listing = await baseListingKey(basePath, this.now());
  }

  /** Not closed, still a target with this base path, and not watched meanwhile by another call. */
  private stillWanted(target: WatchTarget): boolean {
    return (
      !this.closed &&
      this.wanted.get(target.model)?.basePath === target.basePath &&
      !this.bases.has(target.model)
    );
  }

  /** chokidar on the base path, depth 0: polling, or waiting for a missing base path to appear. */
  private async chokidarBase(target: WatchTarget, basePath: string): Promise<FSWatcher | undefined> {
    // Only the base path itself and its version-named children: no watcher is spent on anything else.
    const ignored = (path: string): boolean => {
      const absolute = resolve(path);
      if (absolute === basePath || !absolute.startsWith(basePath)) return false;
      return !(dirname(absolute) === basePath && isVersionDirName(basename(absolute)));
    };
    const watcher = this.chokidar(basePath, 0, ignored);
    watcher.on("all", (event, path) => {
      const base = this.bases.get(target.model);
      if (resolve(path) === basePath && base?.watch === watcher) {
        // The base path itself appeared (or was re-created): watch its children from now on.
        if (event === "addDir" && !base.armed) void this.rewatch(target);
        if (event === "unlinkDir") base.armed = false;
      }
      this.signal(target.model, { source: "base-path", event, path });
    });
    watcher.on("error", (error) => this.watchError(target.model, error));
    await this.ready(watcher);
    return this.closed ? undefined : watcher;
  }

  /** The base path appeared or went: watches it afresh (once at a time per model), then enqueues the model. */
  private rewatch(target: WatchTarget): Promise<void> {
    const running = this.rewatching.get(target.model);
    if (running !== undefined) return running;
    const run = (async () => {
      const old = this.bases.get(target.model);
      if (this.closed || old === undefined || old.target !== target) return;
      this.bases.delete(target.model);
      await this.closeWatch(old.watch);
      await this.watchBase(target);
      this.signal(target.model, { source: "rescan" });
    })().finally(() => this.rewatching.delete(target.model));
    this.rewatching.set(target.model, run);
    return run;
  }

  /** Resolves when the watcher is ready, or when this VersionWatcher is closed (a closed one never gets ready). */
  private ready(watcher: FSWatcher): Promise<void> {
    return Promise.race([ready(watcher), this.closedPromise]);
  }

  private async closeWatch(watch: Closer): Promise<void> {
    this.live.delete(watch);
    await watch.close();
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

  private now(): number {
    return (this.options.now ?? Date.now)();
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
