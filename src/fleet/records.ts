/**
 * The rules every fleet backend applies the same way: record order, which decision may be written over which, and
 * what an intent id may be (it becomes a key segment in etcd and a file name in each replica's local queue).
 */
import { randomBytes } from "node:crypto";
import { compareVersions } from "../controller/versions.js";
import type { FleetDecision, FleetIntent, FleetPin, FleetRollout } from "./backend.js";

export { compareVersions };

/** The local intent queue's id rule (src/state/intent-queue.ts): replicas copy fleet intents under the same id. */
const INTENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function fleetIntentId(id: string | undefined): string {
  const chosen = id ?? randomBytes(8).toString("hex");
  if (!INTENT_ID.test(chosen))
    throw new Error(`fleet intent id must match ${INTENT_ID.source}, not "${chosen}"`);
  return chosen;
}

export function isUndecided(rollout: Pick<FleetRollout, "decision">): boolean {
  return rollout.decision === undefined;
}

/**
 * Whether `decision` may be written on the rollout as it is: an undecided (or not yet opened) rollout takes any
 * decision; a promote decision gives way only to an operator's override reject (a fleet-wide rollback).
 */
export function mayDecide(
  existing: Pick<FleetRollout, "decision"> | undefined,
  decision: Pick<FleetDecision, "verdict" | "override">,
): boolean {
  if (existing?.decision === undefined) return true;
  return (
    existing.decision.verdict === "promote" && decision.verdict === "reject" && decision.override === true
  );
}

/** Oldest first, then by id (the local queue's order). */
export function intentOrder(a: FleetIntent, b: FleetIntent): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A pin state gives way only to the same or a later pin/unpin (an operator's older command never wins). */
export function mayReplacePin(existing: FleetPin | undefined, next: FleetPin): boolean {
  return existing === undefined || intentOrder(existing, next) <= 0;
}
