/**
 * Moving `stable` to a target version: load → await-available → gate → (a held candidate: canary label, approval,
 * window; plan-window.ts) → promote → verify.
 */
import type { DesiredState, PlanResult, Version } from "./types.js";
import { isAvailable, isFailedEnd, modelPolicy } from "./versions.js";
import {
  activePin,
  safetyWait,
  one,
  waitFor,
  candidateVersion,
  heldUndesired,
  staleUnload,
  candidateRechecked,
  type Ctx,
} from "./plan-context.js";
import { CANARY_LABEL, holdCandidate } from "./plan-window.js";
import { fleetChecked, fleetFailed, fleetLoading, fleetSlot, fleetTarget } from "./plan-fleet.js";

export interface Target {
  version: Version;
  gated: boolean;
  /** `fleet`: the version the fleet promoted, above this replica's stable (fleet mode). */
  why: "rollback" | "promote" | "pin" | "fleet" | "candidate";
}

export function currentTarget(ctx: Ctx): Target | undefined {
  const { d } = ctx;
  if (d.rollback !== undefined) return { version: d.rollback.target, gated: false, why: "rollback" };
  if (d.promote !== undefined)
    return { version: d.promote.version, gated: !d.promote.skipGates, why: "promote" };
  const pin = activePin(ctx);
  if (pin !== undefined && pin.version !== ctx.stable && usable(d, pin.version)) {
    return { version: pin.version, gated: d.verdicts[pin.version]?.verdict !== "promoted", why: "pin" };
  }
  const fleet = fleetTarget(ctx);
  if (fleet !== undefined) return fleet;
  const candidate = candidateVersion(ctx);
  if (candidate !== undefined) return { version: candidate, gated: true, why: "candidate" };
  return undefined;
}

export const usable = (d: DesiredState, version: Version): boolean =>
  d.verdicts[version]?.verdict !== "rejected" && d.progress[version]?.failure === undefined;

export function targetPath(ctx: Ctx): PlanResult | undefined {
  const target = currentTarget(ctx);
  const pin = activePin(ctx);
  if (target === undefined && pin !== undefined && pin.version !== ctx.stable) {
    return waitFor(
      ctx.model,
      "pinned",
      `pinned to ${pin.version}, which was rejected (${ctx.d.verdicts[pin.version]?.reason ?? "failed"}); ${ctx.opts.stableLabel} stays on ${ctx.stable}`,
    );
  }
  if (target === undefined || ctx.current === undefined) return undefined;
  const { model, current, opts } = ctx;
  const { version } = target;
  const status = ctx.statuses.get(version);
  const progress = ctx.d.progress[version];
  const markFailed = (reason: string): PlanResult =>
    fleetFailed(ctx, target, reason) ??
    one({ kind: "mark-failed", model, version, reason }, `${target.why} ${version} failed: ${reason}`);

  if (progress?.failure !== undefined || ctx.d.verdicts[version]?.verdict === "rejected") {
    const intentId = target.why === "rollback" ? ctx.d.rollback?.intentId : ctx.d.promote?.intentId;
    if (intentId === undefined) return undefined;
    const reason = `${target.why} target ${version} failed: ${progress?.failure?.reason ?? ctx.d.verdicts[version]?.reason}`;
    return one({ kind: "finish-intent", model, intentId, outcome: "refused", reason }, reason);
  }
  if (ctx.stable === version) return verifyStep(ctx);
  // Admitted, then swapped on disk (e.g. for a symlink escaping base_path) while it loads or is gated: never
  // promoted; the failure path then moves the link itself aside, never what it points to.
  if (ctx.disk.get(version)?.admission === "refused")
    return markFailed(
      `its directory ${ctx.disk.get(version)?.dirName} is no longer admissible (a symlink out of base_path, dangling, or not a directory)`,
    );
  if (!current.specific.includes(version)) {
    const onDisk = ctx.disk.get(version);
    const rechecked = candidateRechecked(ctx, target.why, version);
    if (rechecked) return rechecked;
    if (onDisk === undefined || (onDisk.admission !== "complete" && !loadableSettled(ctx, version))) {
      if (target.why === "candidate") {
        return one(
          {
            kind: "record-verdict",
            model,
            version,
            verdict: "incomplete",
            reason: onDisk
              ? `directory is ${onDisk.admission}`
              : "directory disappeared before it was loaded",
          },
          `candidate ${version} is no longer loadable`,
        );
      }
      // An operator's target still being copied is waited for; one that is gone or will never load ends the intent.
      const intentId = operatorIntent(ctx, target);
      if (intentId !== undefined && onDisk?.admission !== "pending") {
        const reason = `${target.why} target ${version} ${onDisk ? `is ${onDisk.admission} on disk` : "is no longer on disk"}`;
        return one({ kind: "finish-intent", model, intentId, outcome: "refused", reason }, reason);
      }
      return waitFor(model, "target-missing", `${target.why} target ${version} is not complete on disk`);
    }
    const held = heldUndesired(ctx, version);
    if (held) return held;
    if (isFailedEnd(status) && progress?.retried !== true) {
      return markFailed(
        `TF Serving holds version ${version} as failed (${status?.error_message ?? ""}); a failed number is never retried`,
      );
    }
    const proposed = modelPolicy([...current.specific, version], current.labels);
    const blocked = safetyWait(ctx, proposed, "load") ?? fleetSlot(ctx, target);
    if (blocked) return blocked;
    return one(
      { kind: "load", model, config: proposed, version },
      `loading ${target.why} ${version} beside ${opts.stableLabel} ${ctx.stable ?? "none"}`,
    );
  }
  if (!isAvailable(ctx.statuses, version)) {
    if (isFailedEnd(status))
      return markFailed(`load failed: ${status?.error_code}: ${status?.error_message}`);
    if (status?.state === "UNLOADING")
      return waitFor(model, "unloading", `version ${version} is still UNLOADING`);
    const deadline = (progress?.loadStartedAt ?? ctx.d.inFlight?.startedAt ?? ctx.o.now) + opts.loadTimeoutMs;
    if (ctx.o.now >= deadline) {
      return markFailed(
        `not AVAILABLE within ${opts.loadTimeoutMs / 1000} s (state ${status?.state ?? "not reported"})`,
      );
    }
    const stale = staleUnload(ctx, version) ?? fleetLoading(ctx, target);
    if (stale) return stale;
    const fleet = ctx.d.fleet !== undefined && target.why === "candidate" ? { fleet: true as const } : {};
    return one(
      { kind: "await-available", model, version, deadline, ...fleet },
      `waiting for ${version} to become AVAILABLE`,
    );
  }
  const checked = fleetChecked(ctx, target);
  if (checked) return checked;
  if (target.gated && progress?.gate?.passed !== true) {
    return one({ kind: "gate", model, version, stable: ctx.stable }, `smoke-testing ${version}`);
  }
  if (target.why === "candidate" && pin !== undefined) {
    return waitFor(
      model,
      "pinned",
      `candidate ${version} passed its gate but ${opts.stableLabel} is pinned to ${pin.version}`,
    );
  }
  if (target.why === "candidate") {
    const held = holdCandidate(ctx, version);
    if (held) return held;
  }
  // The canary label of a held candidate goes in the same reload that moves stable (to it, or past it).
  const labels = { ...current.labels, [opts.stableLabel]: version };
  const canary = labels[CANARY_LABEL];
  if (canary === version || (canary !== undefined && ctx.d.progress[canary]?.canaryAt !== undefined))
    delete labels[CANARY_LABEL];
  const proposed = modelPolicy(current.specific, labels);
  const blocked = safetyWait(ctx, proposed, "promote");
  if (blocked) return blocked;
  return one(
    { kind: "promote", model, config: proposed, version, from: ctx.stable },
    `moving ${opts.stableLabel} from ${ctx.stable ?? "none"} to ${version}`,
  );
}

/** The operator rollback or promotion that made `target` the target. */
function operatorIntent(ctx: Ctx, target: Target): string | undefined {
  if (target.why === "rollback") return ctx.d.rollback?.intentId;
  return target.why === "promote" ? ctx.d.promote?.intentId : undefined;
}

/**
 * A version the scan no longer reads because its fate is settled (`unchecked`) may still become stable again
 * when it was promoted: it was complete when it served, and an operator rollback or pin may bring it back.
 */
export function loadableSettled(ctx: Ctx, version: Version): boolean {
  return ctx.disk.get(version)?.admission === "unchecked" && ctx.d.verdicts[version]?.verdict === "promoted";
}

export function verifyStep(ctx: Ctx): PlanResult | undefined {
  const stable = ctx.stable;
  if (stable === undefined || ctx.d.verified?.version === stable) return undefined;
  return one(
    { kind: "verify", model: ctx.model, label: ctx.opts.stableLabel, version: stable },
    `checking that ${ctx.opts.stableLabel} resolves to ${stable}`,
  );
}
