/**
 * Holding a candidate that passed its gates but may not become `stable` yet: outside every promotion window, in a
 * freeze, or waiting for an operator's approval. The held candidate is labelled `canary` (it is AVAILABLE, so the
 * label is allowed; `stable` is untouched), approval is requested once (the approval_waiting event), and plan()
 * waits until the window opens or the approval times out. A promote intent overrides both (it makes the candidate
 * a "promote" target, which is never held). The window facts come from the engine as plain data (PlanOptions), so
 * this stays pure.
 */
import type { PlanResult, Version, WaitReason } from "./types.js";
import { modelPolicy } from "./versions.js";
import { one, safetyWait, type Ctx } from "./plan-context.js";

export const CANARY_LABEL = "canary";

/** The step that holds `version` back, or undefined when it may be promoted now. */
export function holdCandidate(ctx: Ctx, version: Version): PlanResult | undefined {
  const { opts, model, current, o } = ctx;
  if (current === undefined) return undefined;
  const approval = opts.approval?.required === true ? opts.approval : undefined;
  const progress = ctx.d.progress[version];
  const requested = progress?.approval;
  let approved = approval === undefined;
  if (approval !== undefined && requested !== undefined && o.now >= requested.deadline) {
    const waited = formatMs(approval.timeoutMs);
    if (approval.onTimeout === "reject") {
      return one(
        {
          kind: "mark-failed",
          model,
          version,
          reason: `approval timed out: no tfs-rollout promote within ${waited}`,
        },
        `candidate ${version} was not approved within ${waited}; rejecting it`,
      );
    }
    approved = true;
  }
  const window = opts.window;
  const windowClosed = window !== undefined && !window.open;
  if (approved && !windowClosed) return undefined;

  if (current.labels[CANARY_LABEL] !== version && progress?.canaryAt === undefined) {
    const proposed = modelPolicy(current.specific, { ...current.labels, [CANARY_LABEL]: version });
    const blocked = safetyWait(ctx, proposed, "canary");
    if (blocked) return blocked;
    const why = approved ? "a promotion window" : "approval";
    return one(
      {
        kind: "canary",
        model,
        config: proposed,
        version,
        label: CANARY_LABEL,
        reason: `passed its gates; waits for ${why}`,
      },
      `labelling ${version} ${CANARY_LABEL} while it waits for ${why}`,
    );
  }
  if (approval !== undefined && requested === undefined) {
    const deadline = o.now + approval.timeoutMs;
    const reason = `candidate ${version} waits for approval: run \`tfs-rollout promote ${model}\` (on timeout at ${iso(deadline)}: ${approval.onTimeout})`;
    return one({ kind: "request-approval", model, version, deadline, reason }, reason);
  }
  if (!approved && approval !== undefined && requested !== undefined) {
    return waitUntil(
      ctx,
      "approval",
      `candidate ${version} (labelled ${CANARY_LABEL}) waits for approval: run \`tfs-rollout promote ${model}\`; ${approval.onTimeout === "reject" ? "rejected" : "promoted"} at ${iso(requested.deadline)} otherwise`,
      requested.deadline,
    );
  }
  return waitUntil(
    ctx,
    "window",
    `candidate ${version} (labelled ${CANARY_LABEL}) waits for a promotion window: ${window?.detail ?? "closed"}`,
    window?.opensAt,
  );
}

export function waitUntil(
  ctx: Ctx,
  reason: WaitReason,
  detail: string,
  until: number | undefined,
): PlanResult {
  return {
    steps: [{ kind: "wait", model: ctx.model, reason, detail, ...(until === undefined ? {} : { until }) }],
    reason: detail,
  };
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
