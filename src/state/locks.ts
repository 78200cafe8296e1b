/**
 * Cross-process locks as files in `<state>/locks/`: the daemon and every CLI process exclude each other per model
 * (`model.<escaped name>.lock`) and around every models.config write and reload (`config.lock`).
 *
 * A lock file is written whole under a temporary name, then hard-linked to its final name: link() fails with EEXIST
 * when the lock is held (the O_EXCL guarantee) and, unlike open(O_EXCL), never shows a half-written holder to another
 * process. It is not fsynced (a lock is taken for every step: the fsyncs dominated a step's cost): only a power loss
 * can leave a lock file empty or torn, and such an unreadable file older than the current boot is broken like a
 * stale one; an unreadable file written since boot is someone's hand edit and is never guessed at. The file names the holder: pid, hostname, command, since, plus boot id and process start time so a lock
 * whose process is gone (dead pid, pid reused, host rebooted) is recognised as stale and broken, with a warning.
 * A live holder's lock is never broken: the waiter times out with an error naming it. A holder on another host
 * cannot be checked and is never broken either.
 *
 * Breaking is itself serialised by a short-lived `<name>.break` lock, and the stale file is removed only if it is
 * still the very one judged stale (same random token), so two waiters cannot both break and one then delete the
 * other's fresh lock.
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, stat, unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { RolloutError } from "../errors.js";
import { escapeModelName, stateDirError, type StatePaths } from "./paths.js";
import { bootTimeMs, currentIdentity, liveness, type ProcessIdentity } from "./process-identity.js";
import { silentLogger, type StateLogger } from "./state-logger.js";
import type { LockOptions, Locks } from "./store.js";

export interface LockHolder extends ProcessIdentity {
  command: string;
  /** ISO 8601 time the lock was taken. */
  since: string;
  /** Random, distinguishes this acquisition from any other. */
  token: string;
}

export class LockTimeoutError extends RolloutError {
  readonly holder: LockHolder | undefined;

  constructor(message: string, options: { where: string; hint: string; holder: LockHolder | undefined }) {
    super(message, options);
    this.holder = options.holder;
  }
}

export interface FileLocksOptions {
  /** Shown to whoever waits for a lock this process holds, e.g. "tfs-rollout daemon". */
  command?: string;
  /** Default wait before giving up (ms); 60 s. */
  timeoutMs?: number;
  /** Re-check interval while waiting (ms); 50. */
  pollMs?: number;
  now?: () => Date;
  log?: StateLogger;
}

/** A `<name>.break` lock older than this whose owner is gone is removed (breaking takes milliseconds). */
const BREAKER_STALE_MS = 10_000;

export function modelLockName(model: string): string {
  return `model.${escapeModelName(model)}`;
}
export const CONFIG_LOCK_NAME = "config";

export class FileLocks implements Locks {
  readonly #paths: StatePaths;
  readonly #command: string;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #now: () => Date;
  readonly #log: StateLogger;
  /** Per lock name, the end of this process's queue: callers in one process wait here, not on the file. */
  readonly #tails = new Map<string, Promise<void>>();
  /** Per lock name, the token of our own lock file whose release failed (state dir read-only): ours to remove. */
  readonly #leftovers = new Map<string, string>();

  constructor(paths: StatePaths, options: FileLocksOptions = {}) {
    this.#paths = paths;
    this.#command = options.command ?? defaultCommand();
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#pollMs = options.pollMs ?? 50;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silentLogger;
  }

  withModelLock<T>(model: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    return this.withLock(modelLockName(model), fn, options);
  }

  withConfigLock<T>(fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    return this.withLock(CONFIG_LOCK_NAME, fn, options);
  }

  /** `name` must be a safe file name component (see modelLockName). */
  async withLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const deadline = performance.now() + (options.timeoutMs ?? this.#timeoutMs);
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let releaseLocal!: () => void;
    const mine = new Promise<void>((resolve) => (releaseLocal = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(name, tail);
    try {
      await this.#waitLocal(name, previous, deadline);
      const held = await this.#acquireFile(name, deadline);
      try {
        return await fn();
      } finally {
        await this.#release(name, held);
      }
    } finally {
      releaseLocal();
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    }
  }

  /** The current holder of a lock, if any (for `tfs-rollout status`). */
  async holder(name: string): Promise<LockHolder | undefined> {
    const read = await readHolder(this.#paths.lockFile(name));
    return read === "unreadable" ? undefined : read;
  }

  async #waitLocal(name: string, previous: Promise<void>, deadline: number): Promise<void> {
    const abort = new AbortController();
    const timedOut = Symbol("timeout");
    const outcome = await Promise.race([
      previous,
      sleep(Math.max(0, deadline - performance.now()), timedOut, { signal: abort.signal }).catch(
        () => undefined,
      ),
    ]);
    abort.abort();
    if (outcome === timedOut) throw await this.#timeoutError(name);
  }

  async #acquireFile(name: string, deadline: number): Promise<LockHolder> {
    const path = this.#paths.lockFile(name);
    const holder: LockHolder = {
      ...currentIdentity(),
      command: this.#command,
      since: this.#now().toISOString(),
      token: randomBytes(12).toString("hex"),
    };
    let announced = false;
    for (;;) {
      holder.since = this.#now().toISOString();
      if (await tryCreate(path, holder).catch(locksDirError(path))) return holder;
      const current = await readHolder(path);
      if (current === undefined) continue; // released between our attempt and the read
      if (current !== "unreadable" && this.#leftovers.get(name) === current.token) {
        // Our own earlier holding, left behind when its release failed: the local queue says nobody here holds it.
        if (await unlinkIfToken(path, current.token))
          this.#log.warn({ lock: path }, `removed our leftover lock ${name}`);
        this.#leftovers.delete(name);
        continue;
      }
      if (current === "unreadable" && (await this.#breakTornBeforeBoot(name))) continue;
      if (current !== "unreadable") {
        const state = liveness(current);
        if (state.alive === false) {
          if (await this.#breakStale(name, current, state.why)) continue;
        } else if (!announced) {
          announced = true;
          this.#log.info(
            { lock: path, holder: current },
            `waiting for lock ${name} held by ${describe(current)}`,
          );
        }
      }
      if (performance.now() >= deadline) throw await this.#timeoutError(name);
      await sleep(this.#pollMs * (0.5 + Math.random()));
    }
  }

  /** True when the stale lock is gone (broken by us or someone else); false when another breaker is at work. */
  async #breakStale(name: string, stale: LockHolder, why: string): Promise<boolean> {
    const path = this.#paths.lockFile(name);
    const breakerPath = this.#paths.lockFile(`${name}.break`);
    const breaker: LockHolder = {
      ...currentIdentity(),
      command: this.#command,
      since: this.#now().toISOString(),
      token: randomBytes(12).toString("hex"),
    };
    if (!(await tryCreate(breakerPath, breaker))) {
      await this.#clearAbandonedBreaker(breakerPath);
      return false;
    }
    try {
      const again = await readHolder(path);
      if (again !== undefined && again !== "unreadable" && again.token === stale.token) {
        await unlink(path);
        this.#log.warn(
          { lock: path, holder: stale, reason: why },
          `broke stale lock ${name} of ${describe(stale)}: ${why}`,
        );
      }
      return true;
    } finally {
      await unlinkIfToken(breakerPath, breaker.token);
    }
  }

  /** An unreadable lock file last written before this boot was torn by a power loss: true when it is gone. */
  async #breakTornBeforeBoot(name: string): Promise<boolean> {
    const path = this.#paths.lockFile(name);
    const boot = bootTimeMs();
    const before = await stat(path).catch(() => undefined);
    if (boot === undefined || before === undefined || before.mtimeMs >= boot) return false;
    const breakerPath = this.#paths.lockFile(`${name}.break`);
    const breaker: LockHolder = {
      ...currentIdentity(),
      command: this.#command,
      since: this.#now().toISOString(),
      token: randomBytes(12).toString("hex"),
    };
    if (!(await tryCreate(breakerPath, breaker))) return false;
    try {
      const again = await stat(path).catch(() => undefined);
      if (again === undefined) return true;
      if (
        again.ino !== before.ino ||
        again.mtimeMs !== before.mtimeMs ||
        (await readHolder(path)) !== "unreadable"
      )
        return false;
      await unlink(path);
      this.#log.warn(
        { lock: path },
        `broke unreadable lock ${name}: written before the host's last boot (torn by a power loss)`,
      );
      return true;
    } finally {
      await unlinkIfToken(breakerPath, breaker.token);
    }
  }

  async #clearAbandonedBreaker(breakerPath: string): Promise<void> {
    const owner = await readHolder(breakerPath);
    if (owner === undefined || owner === "unreadable") return;
    const age = await stat(breakerPath).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > BREAKER_STALE_MS && liveness(owner).alive === false)
      await unlinkIfToken(breakerPath, owner.token);
  }

  async #release(name: string, held: LockHolder): Promise<void> {
    const path = this.#paths.lockFile(name);
    const released = await unlinkIfToken(path, held.token).catch((error: unknown) => {
      // Without this, the next acquisition here would wait for "pid <self>" until the lock timeout, forever.
      this.#leftovers.set(name, held.token);
      throw error;
    });
    if (!released) {
      this.#log.warn({ lock: path }, `lock ${name} was no longer ours when released (removed by hand?)`);
    }
  }

  async #timeoutError(name: string): Promise<LockTimeoutError> {
    const path = this.#paths.lockFile(name);
    const current = await readHolder(path);
    if (current === undefined || current === "unreadable") {
      const what = current === "unreadable" ? "its lock file is unreadable" : "the holder is in this process";
      return new LockTimeoutError(`timed out waiting for lock ${name}: ${what}`, {
        where: path,
        holder: undefined,
        hint:
          current === "unreadable"
            ? `if no tfs-rollout process is running, remove ${path}`
            : "another task of this process holds it; retry later",
      });
    }
    const sameHost = liveness(current).alive !== "unknown";
    return new LockTimeoutError(`timed out waiting for lock ${name}, held by ${describe(current)}`, {
      where: path,
      holder: current,
      hint: sameHost
        ? `wait for pid ${current.pid} to finish and retry, or stop it if it is hung (kill ${current.pid}); ` +
          "a lock left by a process that has exited is broken automatically"
        : `the holder runs on host ${current.hostname} and cannot be checked from here; ` +
          `if it is gone for good, remove ${path}`,
    });
  }
}

function locksDirError(path: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof RolloutError) throw error;
    throw stateDirError(dirname(path), error as NodeJS.ErrnoException);
  };
}

function describe(holder: LockHolder): string {
  return `pid ${holder.pid} on ${holder.hostname} (${holder.command}) since ${holder.since}`;
}

function defaultCommand(): string {
  const script = process.argv[1] ? basename(process.argv[1]) : "node";
  return [script, ...process.argv.slice(2)].join(" ");
}

/** Creates `path` holding `holder`, atomically and only if absent. False when it already exists. */
async function tryCreate(path: string, holder: LockHolder): Promise<boolean> {
  const temp = `${path}.${holder.token}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(holder)}\n`);
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** undefined when there is no lock file; "unreadable" when it holds something else than a holder. */
export async function readHolder(path: string): Promise<LockHolder | "unreadable" | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid === "number" &&
      typeof value.hostname === "string" &&
      typeof value.token === "string" &&
      typeof value.command === "string" &&
      typeof value.since === "string"
    )
      return value as LockHolder;
  } catch {
    // fall through
  }
  return "unreadable";
}

async function unlinkIfToken(path: string, token: string): Promise<boolean> {
  const current = await readHolder(path);
  if (current === undefined || current === "unreadable" || current.token !== token) return false;
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  return true;
}
