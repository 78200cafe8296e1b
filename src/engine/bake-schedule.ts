/**
 * The bake period as plain data derived from what is journaled, so it survives a daemon restart: a version is
 * baking when the controller's last verified promotion made it `stable` (the verify step's time, which is both
 * `record.verified.at` and the `at` of its "promoted" verdict) and `period` has not passed since. An adopted
 * stable, a rollback target (its "promoted" verdict is older than the verify) or a rollback under way never bake.
 */
import type { ControllerRecord, Version } from "../controller/types.js";
import type { JournalEntry } from "../state/store.js";

export interface Bake {
  version: Version;
  /** When the promotion was verified (epoch ms). */
  promotedAt: number;
  /** When the bake period ends (epoch ms). */
  until: number;
}

/** The bake of `stable` (as models.config names it now), whether still running or over; undefined: none. */
export function bakeOf(
  record: ControllerRecord,
  stable: Version | undefined,
  periodMs: number,
): Bake | undefined {
  const verified = record.verified;
  if (verified === undefined || periodMs <= 0 || record.rollback !== undefined) return undefined;
  if (stable !== verified.version) return undefined;
  const verdict = record.verdicts[verified.version];
  if (verdict?.verdict !== "promoted" || verdict.at !== verified.at) return undefined;
  return { version: verified.version, promotedAt: verified.at, until: verified.at + periodMs };
}

export function isBaking(bake: Bake | undefined, now: number): bake is Bake {
  return bake !== undefined && now < bake.until;
}

/**
 * The version `stable` named before the promotion to `version`: the `from` of the newest completed promote step
 * of `version` in the journal (history newest first). The automatic rollback's target.
 */
export function previousStableOf(history: readonly JournalEntry[], version: Version): Version | undefined {
  for (const entry of history) {
    if (entry.phase !== "done") continue;
    const step = entry.step as { kind?: unknown; version?: unknown; from?: unknown } | null;
    if (step?.kind === "promote" && step.version === version)
      return typeof step.from === "string" ? step.from : undefined;
  }
  return undefined;
}
