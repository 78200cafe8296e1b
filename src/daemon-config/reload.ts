import { RolloutError, UsageError } from "../errors.js";
import type { DaemonConfigFlags } from "./flags.js";
import { type ConfigFileReader, loadDaemonConfig } from "./load.js";
import { formatPath } from "./problems.js";
import type { DaemonConfig } from "./types.js";

/** Keys that cannot change under a running daemon: its journal and its models.config. */
export const RESTART_ONLY_KEYS = ["state_dir", "model_config_file"] as const;

export type ReloadResult =
  | { ok: true; config: DaemonConfig; changed: string[] }
  | { ok: false; config: DaemonConfig; error: RolloutError };

/**
 * SIGHUP: loads the config again with the same flags. On any failure the previous config is returned unchanged
 * with the error; this never throws, so a bad edit can not take a running daemon down or half-apply.
 */
export async function reloadDaemonConfig(
  previous: DaemonConfig,
  flags: DaemonConfigFlags,
  env: NodeJS.ProcessEnv,
  reader: ConfigFileReader,
): Promise<ReloadResult> {
  try {
    const next = await loadDaemonConfig({ ...flags, once: previous.once }, env, reader);
    const changed = changedKeys(previous, next);
    const restartOnly = changed.filter((key) => (RESTART_ONLY_KEYS as readonly string[]).includes(key));
    if (restartOnly.length > 0)
      return {
        ok: false,
        config: previous,
        error: new UsageError(`${restartOnly.join(" and ")} cannot change while the daemon runs`, {
          where: next.config_file ?? undefined,
          hint: `put ${restartOnly.join(" and ")} back and reload, or restart the daemon to use the new value`,
        }),
      };
    return { ok: true, config: next, changed };
  } catch (error) {
    const wrapped =
      error instanceof RolloutError
        ? error
        : new RolloutError(`reloading the daemon config failed: ${String(error)}`, { cause: error });
    return { ok: false, config: previous, error: wrapped };
  }
}

/** Dotted key paths whose values differ (leaves; lists compared whole). */
export function changedKeys(before: unknown, after: unknown, path: PropertyKey[] = []): string[] {
  const isMap = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
  if (isMap(before) && isMap(after)) {
    const a = before as Record<string, unknown>;
    const b = after as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => changedKeys(a[key], b[key], [...path, key]));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [formatPath(path)];
}
