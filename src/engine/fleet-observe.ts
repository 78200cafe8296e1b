/**
 * Fleet mode: the FleetView the pure planner reads, built from the coordination backend at the start of each
 * pass (docs/fleet.md). Any failure to read it is "unreachable": plan() then waits, and nothing fleet-wide
 * changes. Times become epoch milliseconds like the rest of the controller's state.
 */
import type { FleetBackend, FleetRollout } from "../fleet/backend.js";
import type { FleetPolicy, FleetRolloutView, FleetView } from "../controller/types.js";
import { errorText } from "../gate/summary.js";

export interface FleetSettings {
  maxLoading: number;
  policy: FleetPolicy;
}

/**
 * `as`: read on behalf of another replica without campaigning (operator commands look at the fleet as their
 * replica's daemon sees it, under their own fleet identity).
 */
export async function observeFleet(
  backend: FleetBackend,
  model: string,
  settings: FleetSettings,
  as?: string,
): Promise<FleetView> {
  const replica = as ?? backend.replica;
  const base = { replica, maxLoading: settings.maxLoading, policy: settings.policy };
  try {
    const campaigned = as === undefined ? await backend.isCoordinator(model) : undefined;
    const [coordinatorId, members, rollouts, slots] = await Promise.all([
      backend.coordinator(model),
      backend.members(),
      backend.rollouts(model),
      backend.loadSlots(model),
    ]);
    return {
      ...base,
      reachable: true,
      coordinator: campaigned ?? coordinatorId === replica,
      ...(coordinatorId === undefined ? {} : { coordinatorId }),
      members: members.map((m) => ({ replica: m.replica, ready: m.ready })),
      rollouts: rollouts.map(rolloutView),
      slots: slots.map((s) => ({ replica: s.replica, version: s.version })),
    };
  } catch (error) {
    return unreachableView(replica, settings, errorText(error));
  }
}

export function unreachableView(replica: string, settings: FleetSettings, reason: string): FleetView {
  return {
    replica,
    maxLoading: settings.maxLoading,
    policy: settings.policy,
    reachable: false,
    reason,
    coordinator: false,
    members: [],
    rollouts: [],
    slots: [],
  };
}

export function rolloutView(rollout: FleetRollout): FleetRolloutView {
  const { decision, removed } = rollout;
  return {
    version: rollout.version,
    openedAt: Date.parse(rollout.openedAt),
    ...(decision === undefined
      ? {}
      : {
          decision: {
            verdict: decision.verdict,
            reason: decision.reason,
            at: Date.parse(decision.at),
            by: decision.by,
            override: decision.override === true,
          },
        }),
    ...(removed === undefined ? {} : { removed: removed.as }),
    reports: Object.fromEntries(
      Object.entries(rollout.reports).map(([replica, r]) => [
        replica,
        { phase: r.phase, reason: r.reason, at: Date.parse(r.at) },
      ]),
    ),
  };
}
