import type { Heartbeat } from "../systemd/heartbeat.js";
import type { CheckResult } from "./http-server.js";

/** /livez from the main loop's heartbeat (the same one the systemd watchdog uses). */
export function livenessFromHeartbeat(heartbeat: Heartbeat): () => CheckResult {
  return () =>
    heartbeat.isAlive()
      ? { ok: true }
      : {
          ok: false,
          reasons: ["main loop heartbeat is stale (the loop is stuck on an await that never settles)"],
        };
}

/**
 * /readyz from named conditions, each returning undefined when fine or the reason it is not (e.g. "config":
 * "daemon config not loaded yet", "tfserving": "127.0.0.1:8500 unreachable: ..."). All are evaluated so the
 * answer lists every problem at once.
 */
export function readinessFrom(
  conditions: Record<string, () => string | undefined | Promise<string | undefined>>,
): () => Promise<CheckResult> {
  return async () => {
    const entries = Object.entries(conditions);
    const answers = await Promise.all(
      entries.map(async ([name, condition]) => {
        try {
          const reason = await condition();
          return reason === undefined ? undefined : `${name}: ${reason}`;
        } catch (error) {
          return `${name}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    const reasons = answers.filter((reason): reason is string => reason !== undefined);
    return { ok: reasons.length === 0, reasons };
  };
}
