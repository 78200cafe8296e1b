/**
 * `tfs-rollout history` in fleet mode: the fleet's own record of each rollout — who opened it, every replica's
 * reports, the decision, the directory's removal from the shared store — as audit events beside this replica's
 * journal, so one trail shows the whole fleet.
 */
import type { FleetRollout } from "../fleet/backend.js";
import type { AuditEvent } from "./audit.js";

export function fleetEvents(rollouts: readonly FleetRollout[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const r of rollouts) {
    const base = { model: r.model, version: r.version, outcome: "ok" as const };
    events.push({
      ...base,
      at: r.openedAt,
      id: `fleet:${r.model}:${r.version}:open`,
      step: "fleet-open",
      what: `fleet rollout of ${r.version} opened`,
      reason: "",
      by: r.openedBy,
    });
    for (const report of Object.values(r.reports))
      events.push({
        ...base,
        at: report.at,
        id: `fleet:${r.model}:${r.version}:report:${report.replica}`,
        step: "fleet-report",
        what: `replica ${report.replica} reported ${report.phase}`,
        reason: report.reason,
        by: report.replica,
        ...(report.phase === "failed" ? { outcome: "failed" as const } : {}),
      });
    if (r.decision !== undefined)
      events.push({
        ...base,
        at: r.decision.at,
        id: `fleet:${r.model}:${r.version}:decide`,
        step: "fleet-decide",
        what: `fleet decided ${r.decision.verdict}${r.decision.override ? " (operator override)" : ""}`,
        reason: r.decision.reason,
        by: r.decision.by,
      });
    if (r.removed !== undefined)
      events.push({
        ...base,
        at: r.removed.at,
        id: `fleet:${r.model}:${r.version}:removed`,
        step: "fleet-mark-removed",
        what: `removed from the shared store as ${r.removed.as}`,
        reason: "",
        by: r.removed.by,
      });
  }
  return events;
}
