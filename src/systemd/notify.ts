import { readNotifyEnv, watchdogIntervalMs } from "./notify-env.js";
import { systemdNotifyProcess, type NotifySend } from "./notify-process.js";
import { startWatchdogLoop, type WatchdogTimers } from "./watchdog.js";

export interface SystemdNotifierOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** How one notification is delivered; `systemd-notify` as a child process by default. */
  send?: NotifySend;
  log: (message: string) => void;
  /** CLOCK_MONOTONIC in microseconds; process.hrtime is CLOCK_MONOTONIC on Linux. */
  monotonicUsec?: () => bigint;
  timers?: WatchdogTimers;
}

/** Notifications are queued, so a slow systemd-notify cannot pile up unbounded children. */
const MAX_PENDING = 32;

/**
 * sd_notify(3) for Type=notify, through the systemd-notify binary (no native addon). Does nothing unless
 * NOTIFY_SOCKET is set. Messages go out one at a time in call order; a failure is logged once and never thrown.
 *
 * Daemon use: `const n = new SystemdNotifier({ log })`; after start-up `n.ready("watching 3 models")` and
 * `n.startWatchdog(heartbeat.isAlive)` (see heartbeat.ts); on SIGHUP `n.reloading()` then `n.ready()`; on SIGTERM
 * `n.stopping()`, and `await n.flush()` before exiting. The returned promises never reject and need not be awaited.
 */
export class SystemdNotifier {
  readonly enabled: boolean;
  private readonly send: NotifySend;
  private readonly log: (message: string) => void;
  private readonly monotonicUsec: () => bigint;
  private readonly timers: WatchdogTimers | undefined;
  private readonly watchdogMs: number | undefined;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private watchdogQueued = false;
  private failureLogged = false;
  private stopWatchdogLoop: (() => void) | undefined;

  constructor(options: SystemdNotifierOptions) {
    const env = options.env ?? process.env;
    const parsed = readNotifyEnv(env, options.pid ?? process.pid);
    this.enabled = parsed.socket !== undefined;
    this.send = options.send ?? systemdNotifyProcess({ env });
    this.log = options.log;
    this.monotonicUsec = options.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n);
    this.timers = options.timers;
    this.watchdogMs =
      this.enabled && parsed.watchdogUsec !== undefined ? watchdogIntervalMs(parsed.watchdogUsec) : undefined;
    if (this.enabled && parsed.watchdogIgnored)
      this.log(`systemd watchdog not used: ${parsed.watchdogIgnored}`);
  }

  /** Start-up (or a reload) finished: config loaded, watchers ready, TF Serving contacted or being retried. */
  ready(status?: string): Promise<void> {
    return this.notify(["READY=1", ...statusField(status)]);
  }

  status(text: string): Promise<void> {
    return this.notify(statusField(text));
  }

  /** SIGHUP received; send ready() when the reload is done (or abandoned). MONOTONIC_USEC is what Type=notify-reload (systemd ≥ 253) requires. */
  reloading(status?: string): Promise<void> {
    return this.notify(["RELOADING=1", `MONOTONIC_USEC=${this.monotonicUsec()}`, ...statusField(status)]);
  }

  stopping(status?: string): Promise<void> {
    return this.notify(["STOPPING=1", ...statusField(status)]);
  }

  watchdog(): Promise<void> {
    if (!this.enabled || this.watchdogQueued) return this.tail;
    this.watchdogQueued = true;
    return this.enqueue(["WATCHDOG=1"], () => (this.watchdogQueued = false));
  }

  /** The pet interval (WATCHDOG_USEC/2 in ms), or undefined when systemd asked for no watchdog. */
  get watchdogIntervalMs(): number | undefined {
    return this.watchdogMs;
  }

  /** Pets every WATCHDOG_USEC/2 while isAlive() holds; false when no watchdog was requested. */
  startWatchdog(isAlive: () => boolean): boolean {
    if (this.watchdogMs === undefined || this.stopWatchdogLoop) return this.stopWatchdogLoop !== undefined;
    this.stopWatchdogLoop = startWatchdogLoop({
      intervalMs: this.watchdogMs,
      isAlive,
      pet: () => void this.watchdog(),
      log: this.log,
      timers: this.timers,
    });
    return true;
  }

  stopWatchdog(): void {
    this.stopWatchdogLoop?.();
    this.stopWatchdogLoop = undefined;
  }

  /** Resolves once every queued notification was attempted (call before exiting). */
  flush(): Promise<void> {
    return this.tail;
  }

  private notify(fields: string[]): Promise<void> {
    if (!this.enabled || fields.length === 0) return this.tail;
    if (this.pending >= MAX_PENDING) {
      this.fail(`${this.pending} notifications already waiting; dropped ${fields.join(" ")}`);
      return this.tail;
    }
    return this.enqueue(fields);
  }

  private enqueue(fields: string[], beforeSend?: () => void): Promise<void> {
    this.pending++;
    this.tail = this.tail.then(async () => {
      beforeSend?.();
      const result = await this.send(fields).catch((error: unknown) => ({
        ok: false as const,
        reason: String(error),
      }));
      this.pending--;
      if (!result.ok) this.fail(result.reason);
    });
    return this.tail;
  }

  private fail(reason: string): void {
    if (this.failureLogged) return;
    this.failureLogged = true;
    this.log(
      `systemd notification failed (the daemon carries on; further failures are not logged): ${reason}`,
    );
  }
}

/** STATUS= is one line (sd_notify(3)); newlines would start new variables. */
function statusField(text: string | undefined): string[] {
  if (text === undefined || text === "") return [];
  return [`STATUS=${text.replace(/[\r\n]+/g, " ").trim()}`];
}
