/**
 * The "main loop is alive" signal for the watchdog: the daemon's main loop calls beat() each time round, and
 * isAlive() turns false once no beat came for staleAfterMs (a loop stuck on an await that never settles).
 */
export interface Heartbeat {
  beat(): void;
  isAlive(): boolean;
}

export function createHeartbeat(
  staleAfterMs: number,
  nowMs: () => number = () => performance.now(),
): Heartbeat {
  let last = nowMs();
  return {
    beat: () => {
      last = nowMs();
    },
    isAlive: () => nowMs() - last <= staleAfterMs,
  };
}
