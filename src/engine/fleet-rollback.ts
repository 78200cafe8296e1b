/**
 * Fleet mode: the bake period's automatic rollback acts on the whole fleet (docs/fleet.md, "Bake period"), the
 * way `tfs-rollout rollback` does in fleet mode: the baked version (and every newer version the fleet has not
 * rejected) gets an override reject decision, and a fleet rollback intent goes to every replica, which copies it
 * into its own queue and moves its `stable` back. The coordinator then takes the version off the shared store once,
 * after every replica unloaded it. The intent id is derived from the version, so two replicas whose probes fail at
 * once file one rollback.
 */
import type { FleetBackend, FleetIntent } from "../fleet/backend.js";
import { compareVersions } from "../fleet/records.js";
import { AUTO_ROLLBACK } from "./bake.js";

export interface FleetAutoRollback {
  model: string;
  /** The baked version whose probe failed (the fleet's `stable`). */
  version: string;
  /** The version `stable` named before it, when known (else the local rollback's own choice). */
  to?: string;
  reason: string;
}

export const autoRollbackIntentId = (version: string): string => `${AUTO_ROLLBACK}-${version}`;

export async function fleetAutoRollback(
  backend: FleetBackend,
  request: FleetAutoRollback,
): Promise<FleetIntent> {
  const { model, version, reason } = request;
  const newer = (await backend.rollouts(model))
    .filter((r) => compareVersions(r.version, version) > 0 && r.decision?.verdict !== "reject")
    .map((r) => r.version);
  for (const taken of [version, ...newer])
    await backend.decide(model, taken, { verdict: "reject", reason, by: AUTO_ROLLBACK, override: true });
  return backend.putIntent({
    id: autoRollbackIntentId(version),
    model,
    kind: "rollback",
    args: { ...(request.to === undefined ? {} : { to: request.to }), reason },
    by: AUTO_ROLLBACK,
  });
}
