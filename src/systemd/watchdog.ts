/** The timer functions the watchdog loop uses; tests pass a manual clock. */
export interface WatchdogTimers {
  setInterval(tick: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: WatchdogTimers = {
  setInterval: (tick, ms) => setInterval(tick, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface WatchdogLoopOptions {
  intervalMs: number;
  /** The daemon's own liveness check (for example: its main loop ticked recently). False skips the pet. */
  isAlive: () => boolean;
  pet: () => void;
  log: (message: string) => void;
  timers?: WatchdogTimers;
}

/**
 * Pets the watchdog every intervalMs while isAlive() holds. A blocked event loop stops the timer itself; isAlive
 * covers a loop that still runs timers but whose work is stuck, so systemd restarts the service in both cases.
 */
export function startWatchdogLoop(options: WatchdogLoopOptions): () => void {
  const timers = options.timers ?? realTimers;
  let stalled = false;
  const handle = timers.setInterval(() => {
    if (options.isAlive()) {
      if (stalled) options.log("systemd watchdog: main loop alive again, petting resumed");
      stalled = false;
      options.pet();
    } else if (!stalled) {
      stalled = true;
      options.log("systemd watchdog: main loop not alive, not petting (systemd will restart the service)");
    }
  }, options.intervalMs);
  return () => timers.clearInterval(handle);
}
