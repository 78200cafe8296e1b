/** Crash recovery (resume or abandon the in-flight step) and operator hand edits of models.config. */
import type { ModelPolicy, ObservedModelConfig, PlanResult } from "./types.js";
import { samePolicy, sortVersions } from "./versions.js";
import { isConfigStep, safety, one, type Ctx } from "./plan-context.js";
import { quarantineRefusal } from "./plan-failure.js";

export function resumeInFlight(ctx: Ctx): PlanResult | undefined {
  const inFlight = ctx.d.inFlight;
  if (inFlight === undefined) return undefined;
  const { step } = inFlight;
  const abandon = (reason: string, written?: ModelPolicy): PlanResult =>
    one(
      { kind: "abandon", model: ctx.model, inFlightId: inFlight.id, reason, ...(written ? { written } : {}) },
      `abandoning unfinished ${step.kind}: ${reason}`,
    );
  const resume: PlanResult = {
    steps: [step],
    reason: `resuming unfinished ${step.kind}`,
    resumes: inFlight.id,
  };
  if (isConfigStep(step)) {
    const alreadyWritten = ctx.current !== undefined && samePolicy(ctx.current, step.config);
    const untouched =
      ctx.d.lastWritten === undefined ||
      (ctx.current !== undefined && samePolicy(ctx.current, ctx.d.lastWritten));
    if (!alreadyWritten && !untouched) return abandon("models.config was edited by hand meanwhile");
    const violations = safety(ctx, step.config);
    if (violations.length === 0) return resume;
    return abandon(violations.map((v) => v.message).join("; "), alreadyWritten ? step.config : undefined);
  }
  if (step.kind === "quarantine") {
    const refusal = quarantineRefusal(ctx, step.version);
    return refusal === undefined ? resume : abandon(refusal);
  }
  // Probes change nothing: re-planning issues them again with the journaled deadline, or something better if
  // the world moved on meanwhile (an await for a version an operator removed must not fail it).
  if (
    step.kind === "await-available" ||
    step.kind === "gate" ||
    step.kind === "verify" ||
    step.kind === "reclaim" ||
    step.kind === "wait" ||
    // Fleet steps are decided from the fleet's records as they are now (a decision from before a restart may be stale).
    step.kind.startsWith("fleet-")
  ) {
    return abandon(`${step.kind} is re-planned after a restart`);
  }
  return resume;
}

/**
 * A config step wrote models.config but its reload failed (TF Serving down, a reload error): TF Serving never saw
 * the file. While the file still holds that policy, the same step is issued again: it writes nothing and reloads.
 */
export function retryReload(ctx: Ctx): PlanResult | undefined {
  const pending = ctx.d.reloadPending;
  if (pending === undefined || ctx.current === undefined || !samePolicy(ctx.current, pending.config))
    return undefined;
  return one(
    pending,
    `models.config holds the ${pending.kind} step's policy but TF Serving never got the reload`,
  );
}

export function acceptHandEdit(ctx: Ctx): PlanResult | undefined {
  const previous = ctx.d.lastWritten;
  if (previous === undefined) return undefined;
  if (ctx.current !== undefined && samePolicy(ctx.current, previous)) return undefined;
  const changes = describeChanges(previous, ctx.config);
  return one(
    {
      kind: "accept-hand-edit",
      model: ctx.model,
      observed: ctx.config,
      previous,
      changes,
      stableLabel: ctx.opts.stableLabel,
    },
    `models.config was edited by hand (${changes.join("; ")}); adopting it as operator intent`,
  );
}

export function describeChanges(previous: ModelPolicy, now: ObservedModelConfig): string[] {
  const changes: string[] = [];
  if (now.policy.kind !== "specific") changes.push(`policy is now ${now.policy.kind}`);
  else if (JSON.stringify(sortVersions(now.policy.versions)) !== JSON.stringify(previous.specific)) {
    changes.push(`specific ${previous.specific.join(",")} → ${sortVersions(now.policy.versions).join(",")}`);
  }
  const labels = new Set([...Object.keys(previous.labels), ...Object.keys(now.labels)]);
  for (const label of [...labels].sort()) {
    if (previous.labels[label] !== now.labels[label]) {
      changes.push(`label ${label}: ${previous.labels[label] ?? "none"} → ${now.labels[label] ?? "none"}`);
    }
  }
  return changes;
}
