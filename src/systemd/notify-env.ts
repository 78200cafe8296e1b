/** What the service manager told us through the environment (see sd_notify(3), sd_watchdog_enabled(3)). */
export interface NotifyEnv {
  /** NOTIFY_SOCKET: a filesystem path or an abstract socket ("@name"); undefined when not run under Type=notify. */
  socket: string | undefined;
  /** WATCHDOG_USEC, when it is set, valid and meant for this process (WATCHDOG_PID absent or equal to our pid). */
  watchdogUsec: bigint | undefined;
  /** Why the watchdog variables were ignored, for one log line; undefined when they were used or absent. */
  watchdogIgnored: string | undefined;
}

const DECIMAL = /^[0-9]+$/;

export function readNotifyEnv(env: NodeJS.ProcessEnv, pid: number = process.pid): NotifyEnv {
  const socket = env.NOTIFY_SOCKET ? env.NOTIFY_SOCKET : undefined;
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === "")
    return { socket, watchdogUsec: undefined, watchdogIgnored: undefined };
  if (!DECIMAL.test(usec) || BigInt(usec) === 0n)
    return {
      socket,
      watchdogUsec: undefined,
      watchdogIgnored: `WATCHDOG_USEC=${usec} is not a positive integer`,
    };
  const watchdogPid = env.WATCHDOG_PID;
  if (watchdogPid !== undefined && watchdogPid !== "") {
    if (!DECIMAL.test(watchdogPid))
      return { socket, watchdogUsec: undefined, watchdogIgnored: `WATCHDOG_PID=${watchdogPid} is not a pid` };
    if (Number(watchdogPid) !== pid)
      return {
        socket,
        watchdogUsec: undefined,
        watchdogIgnored: `WATCHDOG_PID=${watchdogPid} is another process (we are ${pid})`,
      };
  }
  return { socket, watchdogUsec: BigInt(usec), watchdogIgnored: undefined };
}

/** sd_watchdog_enabled(3) recommends petting at half the timeout. */
export function watchdogIntervalMs(watchdogUsec: bigint): number {
  return Math.max(1, Number(watchdogUsec / 2000n));
}
