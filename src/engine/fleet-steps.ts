/**
 * Fleet mode: the effects of the fleet steps plan() returns (controller/types.ts FleetStep), each one call of the
 * coordination backend (one etcd transaction). A transaction that finds the work already done or taken by
 * another replica (a rollout already open, a decision already there, no free slot) is a failed outcome with
 * its reason: the next pass re-plans from what the fleet now says.
 */
import type { StepOutcome } from "../controller/outcome.js";
import type { FleetStep, FleetView, Step } from "../controller/types.js";
import type { FleetBackend, FleetIntent } from "../fleet/backend.js";
import { errorText } from "../gate/summary.js";
import type { FleetAutoRollback } from "./fleet-rollback.js";

/** What a model pass needs of the fleet (engine/fleet-session.ts). */
export interface FleetLink {
  /** The fleet as this replica sees it now; copies unseen fleet intents into the local queue first. */
  observe(model: string, localStable: string | undefined): Promise<FleetView>;
  apply(step: FleetStep): Promise<StepOutcome>;
  /** The bake period's failed probe, rolled back fleet-wide (fleet-rollback.ts); throws when etcd is unreachable. */
  autoRollback(request: FleetAutoRollback): Promise<FleetIntent>;
}

export const isFleetStep = (step: Step): step is FleetStep => step.kind.startsWith("fleet-");

export async function applyFleetStep(backend: FleetBackend, step: FleetStep): Promise<StepOutcome> {
  try {
    return await apply(backend, step);
  } catch (error) {
    return { ok: false, reason: `fleet backend: ${errorText(error)}` };
  }
}

async function apply(backend: FleetBackend, step: FleetStep): Promise<StepOutcome> {
  const { model, version } = step;
  switch (step.kind) {
    case "fleet-open":
      return (await backend.openRollout(model, version))
        ? { ok: true, reason: `opened the fleet's rollout of ${version}: ${step.reason}` }
        : { ok: false, reason: `another rollout of ${model} is open, or ${version} was opened before` };
    case "fleet-acquire-slot":
      return (await backend.acquireLoadSlot(model, version, step.max))
        ? { ok: true, reason: `load slot for ${version}` }
        : { ok: false, reason: `all ${step.max} load slot(s) of ${model} are taken` };
    case "fleet-release-slot":
      await backend.releaseLoadSlot(model);
      return { ok: true, reason: `load slot of ${version} given back (${step.reason})` };
    case "fleet-report":
      await backend.report(model, version, step.phase, step.reason);
      return { ok: true, reason: `reported ${step.phase}: ${step.reason}` };
    case "fleet-decide":
      return (await backend.decide(model, version, {
        verdict: step.verdict,
        reason: step.reason,
        by: backend.replica,
      }))
        ? { ok: true, reason: `${step.verdict} ${version}: ${step.reason}` }
        : { ok: false, reason: `${version} was already decided` };
    case "fleet-mark-removed":
      return (await backend.markRemoved(model, version, step.as))
        ? { ok: true, reason: `${version} left the shared store as ${step.as}` }
        : { ok: false, reason: `the removal of ${version} was already recorded` };
  }
}
