/**
 * Fleet mode (issue 11, docs/fleet.md): the rules plan() adds when `DesiredState.fleet` is set. Every replica
 * manages only its own TF Serving; the fleet's records (rollouts, decisions, reports, members, load slots) decide
 * which version is the candidate, when it may load, whether it is promoted or rejected, and who takes a rejected
 * directory off the shared store. Pure, like the rest of plan(): the FleetView is read by the engine.
 *
 *  - etcd unreachable → wait (plan.ts keeps only the local config step in flight).
 *  - open (coordinator): no undecided rollout → the newest complete version above every rollout and the fleet's
 *    stable becomes one (`fleet-open`); a newer one still being copied → wait.
 *  - candidate (every replica): only the fleet's undecided rollout is admitted; a local candidate the fleet does
 *    not know is skipped.
 *  - load slot: a fleet load needs a slot (`fleet-acquire-slot`, or wait `fleet-slot` while `max_loading` are
 *    held); the slot goes back once the replica reported the end of its own checking (`fleet-release-slot`).
 *  - report: loaded → `loading`; AVAILABLE and gate passed → `passed`; END, deadline or gate failed → `failed`
 *    (never the local failure path); then wait (`fleet-verdict`).
 *  - decide (coordinator): among live ready members, `all` or `quorum` → `fleet-decide`.
 *  - promote decision: the fleet's stable is the target (no gate: the fleet judged it) → promote → verify →
 *    report `promoted`. Reject decision: mark failed → rollback-config → report `unloaded` → verdict rejected.
 *  - removal (coordinator): a rejected directory still on the shared store, once no live member has it loaded →
 *    quarantine (its name fixed by the decision time, so any coordinator renames it the same way) →
 *    `fleet-mark-removed`.
 */
import type { FleetRolloutView, FleetView, PlanResult, Version } from "./types.js";
import { compareVersions, maxVersion, quarantineName, sortVersions } from "./versions.js";
import { activePin, one, waitFor, type Ctx } from "./plan-context.js";
import type { Target } from "./plan-target.js";
import { formatMs, iso, waitUntil } from "./plan-window.js";

const PASSED = new Set(["passed", "promoted"]);
const FAILED = new Set(["failed", "unloaded"]);
/** Reports after which this replica's own checking of the version is over. */
const CHECKED = new Set(["passed", "failed", "promoted", "unloaded"]);

/** The version the fleet promoted last (its `stable`), if any. */
export function fleetStable(view: Pick<FleetView, "rollouts">): Version | undefined {
  return maxVersion(view.rollouts.filter((r) => r.decision?.verdict === "promote").map((r) => r.version));
}

/** The undecided rollout (at most one per model). */
export const openRollout = (view: Pick<FleetView, "rollouts">): FleetRolloutView | undefined =>
  view.rollouts.find((r) => r.decision === undefined);

/** A member votes once its `stable` is the fleet's (or, before any fleet promotion, once it has one). */
export function replicaReady(view: Pick<FleetView, "rollouts">, localStable: Version | undefined): boolean {
  const stable = fleetStable(view);
  return stable === undefined ? localStable !== undefined : localStable === stable;
}

const rolloutOf = (view: FleetView, version: Version) => view.rollouts.find((r) => r.version === version);
const myReport = (view: FleetView, rollout: FleetRolloutView | undefined) =>
  rollout?.reports[view.replica]?.phase;

type Phase = "loading" | "passed" | "failed" | "promoted" | "unloaded";

const reportStep = (ctx: Ctx, version: Version, phase: Phase, reason: string): PlanResult =>
  one(
    { kind: "fleet-report", model: ctx.model, version, phase, reason },
    `reporting ${phase} on ${version} to the fleet: ${reason}`,
  );

/** Waiting for the decision; on the coordinator, a promotion held by a window or approval says so. */
const awaitVerdict = (ctx: Ctx, version: Version, what: string): PlanResult =>
  coordinatorHold(ctx, version) ??
  waitFor(ctx.model, "fleet-verdict", `${what}; waiting for the fleet's verdict on ${version}`);

// ---------------------------------------------------------------------------------------------------------------
// Hooks of the target path (plan-target.ts).

/**
 * A version the fleet promoted above the local stable (or the fleet's stable after an operator's fleet-wide
 * rollback of the local one): every replica moves there, without its own gate.
 */
export function fleetTarget(ctx: Ctx): Target | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || activePin(ctx) !== undefined) return undefined;
  const version = fleetStable(view);
  if (version === undefined || version === ctx.stable) return undefined;
  // Below the local stable only when an operator's fleet-wide rollback rejected that stable (a replica that was
  // down when the rollback ran comes back on it).
  const overridden = ctx.stable !== undefined && rolloutOf(view, ctx.stable)?.decision?.override === true;
  if (ctx.stable !== undefined && compareVersions(version, ctx.stable) < 0 && !overridden) return undefined;
  if (ctx.d.verdicts[version]?.verdict === "rejected" || ctx.d.progress[version]?.failure !== undefined)
    return undefined;
  return { version, gated: false, why: "fleet" };
}

const fleetLoad = (ctx: Ctx, target: Target): boolean =>
  ctx.d.fleet !== undefined && (target.why === "candidate" || target.why === "fleet");

/**
 * Before a fleet load: the replica's load slot (at most `max_loading` replicas load the model at once), then the
 * `loading` report, so that a replica that dies right after its load still holds the coordinator's removal back.
 */
export function fleetSlot(ctx: Ctx, target: Target): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || !fleetLoad(ctx, target)) return undefined;
  const { version } = target;
  const mine = view.slots.find((s) => s.replica === view.replica);
  if (mine?.version === version) return fleetLoading(ctx, target);
  const others = view.slots.filter((s) => s.replica !== view.replica);
  if (others.length < view.maxLoading) {
    return one(
      { kind: "fleet-acquire-slot", model: ctx.model, version, max: view.maxLoading },
      `taking a load slot for ${version} (${others.length} of ${view.maxLoading} held)`,
    );
  }
  return waitFor(
    ctx.model,
    "fleet-slot",
    `${version} waits for a load slot: ${others.map((s) => `${s.replica} loads ${s.version}`).join(", ")} (max_loading ${view.maxLoading})`,
  );
}

/** About to load (or loaded, not yet AVAILABLE): tell the fleet once. */
export function fleetLoading(ctx: Ctx, target: Target): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || target.why !== "candidate") return undefined;
  if (myReport(view, rolloutOf(view, target.version)) !== undefined) return undefined;
  return reportStep(
    ctx,
    target.version,
    "loading",
    `loading ${target.version} beside ${ctx.opts.stableLabel}`,
  );
}

/** A fleet candidate failed here (END, deadline, gate): reported, never taken out locally before the verdict. */
export function fleetFailed(ctx: Ctx, target: Target, reason: string): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || target.why !== "candidate") return undefined;
  if (myReport(view, rolloutOf(view, target.version)) === "failed")
    return awaitVerdict(ctx, target.version, `${target.version} failed here (${reason})`);
  return reportStep(ctx, target.version, "failed", reason);
}

/** A fleet candidate AVAILABLE here: gate it (once), report, and wait for the decision. */
export function fleetChecked(ctx: Ctx, target: Target): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || target.why !== "candidate") return undefined;
  const { version } = target;
  // Decided while this replica is held (a pin): the target path says why it stays.
  if (rolloutOf(view, version)?.decision !== undefined) return undefined;
  const gate = ctx.d.progress[version]?.gate;
  if (gate === undefined) {
    return one(
      { kind: "gate", model: ctx.model, version, stable: ctx.stable, fleet: true },
      `smoke-testing fleet candidate ${version}`,
    );
  }
  if (!gate.passed) return fleetFailed(ctx, target, `gate failed: ${gate.reason}`);
  if (myReport(view, rolloutOf(view, version)) === "passed")
    return awaitVerdict(ctx, version, `${version} passed here`);
  return reportStep(ctx, version, "passed", `AVAILABLE and gate passed: ${gate.reason}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Hook of the failure path (plan-failure.ts): after rollback-config a replica reports, it never renames.

export function fleetUnloaded(ctx: Ctx, version: Version, reason: string): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined) return undefined;
  const phase = myReport(view, rolloutOf(view, version));
  if (phase !== undefined && phase !== "unloaded")
    return reportStep(ctx, version, "unloaded", `removed from specific (${reason})`);
  return one(
    { kind: "record-verdict", model: ctx.model, version, verdict: "rejected", reason },
    `rejecting ${version}: ${reason} (the fleet's coordinator takes it off the shared store)`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Planners of their own (plan.ts orders them).

/** Coordinator: decide the undecided rollout by the policy, among live ready members. */
export function fleetDecide(ctx: Ctx): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || !view.coordinator) return undefined;
  const rollout = openRollout(view);
  if (rollout === undefined) return undefined;
  const decision = decideByPolicy(view, rollout);
  if (decision === undefined) return undefined;
  if (decision.verdict === "promote") {
    // A held promotion: its bookkeeping (request approval, reject on timeout) now, its wait where the
    // coordinator waits for the verdict (awaitVerdict), so the coordinator's own steps go on meanwhile.
    const held = fleetHold(ctx, rollout.version);
    if (held !== undefined) return held.steps[0]?.kind === "wait" ? undefined : held;
  }
  return one(
    { kind: "fleet-decide", model: ctx.model, version: rollout.version, ...decision },
    `deciding ${decision.verdict} of ${rollout.version}: ${decision.reason}`,
  );
}

/**
 * Coordinator: the fleet's promote decision waits for the model's promotion window, freeze and manual approval, as
 * a single daemon's promotion does (plan-window.ts), so the whole fleet moves inside the window. Approval is the
 * operator's fleet-wide `tfs-rollout promote` (itself the fleet's promote decision). No canary label: the labels
 * stay the same on every replica. The approval request is this coordinator's record (a new coordinator asks again).
 */
export function fleetHold(ctx: Ctx, version: Version): PlanResult | undefined {
  const { opts, model, o } = ctx;
  const approval = opts.approval?.required === true ? opts.approval : undefined;
  if (approval !== undefined) {
    const requested = ctx.d.progress[version]?.approval;
    if (requested === undefined) {
      const deadline = o.now + approval.timeoutMs;
      const reason = `fleet candidate ${version} passed on the fleet and waits for approval: run \`tfs-rollout promote ${model}\` (on timeout at ${iso(deadline)}: ${approval.onTimeout})`;
      return one({ kind: "request-approval", model, version, deadline, reason }, reason);
    }
    if (o.now < requested.deadline) {
      return waitUntil(
        ctx,
        "approval",
        `fleet candidate ${version} waits for approval: run \`tfs-rollout promote ${model}\`; ${approval.onTimeout === "reject" ? "rejected" : "promoted"} fleet-wide at ${iso(requested.deadline)} otherwise`,
        requested.deadline,
      );
    }
    if (approval.onTimeout === "reject") {
      const reason = `approval timed out: no tfs-rollout promote within ${formatMs(approval.timeoutMs)}`;
      return one(
        { kind: "fleet-decide", model, version, verdict: "reject", reason },
        `deciding reject of ${version}: ${reason}`,
      );
    }
  }
  const window = opts.window;
  if (window === undefined || window.open) return undefined;
  return waitUntil(
    ctx,
    "window",
    `fleet candidate ${version} passed on the fleet and waits for a promotion window: ${window.detail}`,
    window.opensAt,
  );
}

/** The coordinator's hold of the open rollout, when the policy would promote it now. */
function coordinatorHold(ctx: Ctx, version: Version): PlanResult | undefined {
  const view = ctx.d.fleet;
  const rollout = view === undefined ? undefined : openRollout(view);
  if (view === undefined || !view.coordinator || rollout?.version !== version) return undefined;
  return decideByPolicy(view, rollout)?.verdict === "promote" ? fleetHold(ctx, version) : undefined;
}

export function decideByPolicy(
  view: FleetView,
  rollout: FleetRolloutView,
): { verdict: "promote" | "reject"; reason: string } | undefined {
  const voters = view.members.filter((m) => m.ready).map((m) => m.replica);
  if (voters.length === 0) return undefined;
  const phase = (replica: string) => rollout.reports[replica]?.phase ?? "";
  const passed = voters.filter((r) => PASSED.has(phase(r)));
  const failed = voters.filter((r) => FAILED.has(phase(r)));
  const failures = failed.map((r) => `${r}: ${rollout.reports[r]?.reason ?? ""}`).join("; ");
  if (view.policy.kind === "all") {
    if (failed.length > 0) return { verdict: "reject", reason: `failed on ${failures}` };
    if (passed.length === voters.length)
      return { verdict: "promote", reason: `passed on all ${voters.length} ready replicas` };
    return undefined;
  }
  const { quorum } = view.policy;
  if (passed.length >= quorum)
    return { verdict: "promote", reason: `passed on ${passed.length} replicas (quorum ${quorum})` };
  if (failed.length > 0 && failed.length > voters.length - quorum)
    return {
      verdict: "reject",
      reason: `quorum ${quorum} out of reach among ${voters.length} ready replicas; failed on ${failures}`,
    };
  return undefined;
}

/**
 * Every replica: follow the fleet's rollouts in the local record: a rejected version is marked failed (the
 * failure path unloads it), a local candidate the fleet does not know is skipped, the fleet's undecided rollout
 * is admitted, the end of a promotion and a version this replica cannot check are reported, a load slot no longer
 * needed goes back.
 */
export function fleetFollow(ctx: Ctx): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined) return undefined;
  const { d, model } = ctx;
  for (const rollout of view.rollouts) {
    const { version, decision } = rollout;
    if (decision?.verdict !== "reject" || version === ctx.stable) continue;
    const local = d.verdicts[version]?.verdict;
    const loaded = ctx.current?.specific.includes(version) === true;
    if (d.progress[version]?.failure !== undefined || local === "rejected") continue;
    if (!loaded && local !== "candidate") continue;
    return one(
      {
        kind: "mark-failed",
        model,
        version,
        reason: `rejected by the fleet (${decision.by}): ${decision.reason}`,
        ...(decision.override ? { allowServing: true as const } : {}),
      },
      `the fleet rejected ${version}; taking it out here`,
    );
  }
  const open = openRollout(view);
  for (const [version, record] of Object.entries(d.verdicts)) {
    if (record.verdict !== "candidate" || d.progress[version]?.failure !== undefined) continue;
    if (rolloutOf(view, version) !== undefined) continue;
    return one(
      {
        kind: "record-verdict",
        model,
        version,
        verdict: "skipped",
        reason: "not the fleet's candidate (fleet mode admits only the fleet's rollouts)",
      },
      `local candidate ${version} is unknown to the fleet; skipping it`,
    );
  }
  const promoted = promotionDone(ctx, view);
  if (promoted) return promoted;
  const released = releaseSlot(ctx, view);
  if (released) return released;
  if (open === undefined) return undefined;
  const { version } = open;
  const local = d.verdicts[version];
  if (local === undefined) {
    if (ctx.stable !== undefined && compareVersions(version, ctx.stable) <= 0) return undefined;
    return one(
      { kind: "admit", model, candidate: version, skipped: [] },
      `admitting the fleet's rollout ${version} as candidate`,
    );
  }
  if (local.verdict === "candidate" || local.verdict === "promoted") return undefined;
  if (myReport(view, open) === "failed")
    return awaitVerdict(ctx, version, `${version} is ${local.verdict} here`);
  return reportStep(ctx, version, "failed", `${local.verdict} here: ${local.reason}`);
}

function promotionDone(ctx: Ctx, view: FleetView): PlanResult | undefined {
  const stable = ctx.stable;
  if (stable === undefined || ctx.d.verified?.version !== stable) return undefined;
  const rollout = rolloutOf(view, stable);
  if (rollout === undefined || rollout.decision?.verdict === "reject") return undefined;
  if (myReport(view, rollout) === "promoted") return undefined;
  return reportStep(ctx, stable, "promoted", `${ctx.opts.stableLabel} resolves to ${stable}`);
}

function releaseSlot(ctx: Ctx, view: FleetView): PlanResult | undefined {
  const slot = view.slots.find((s) => s.replica === view.replica);
  if (slot === undefined) return undefined;
  const rollout = rolloutOf(view, slot.version);
  const phase = myReport(view, rollout) ?? "";
  const done = rollout === undefined || rollout.decision?.verdict === "reject" || CHECKED.has(phase);
  if (!done) return undefined;
  return one(
    {
      kind: "fleet-release-slot",
      model: ctx.model,
      version: slot.version,
      reason: phase ? `reported ${phase}` : "the fleet decided",
    },
    `giving back the load slot of ${slot.version}`,
  );
}

/** Coordinator: take a rejected directory off the shared store once no live member has it loaded. */
export function fleetRemoval(ctx: Ctx): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || !view.coordinator) return undefined;
  const live = view.members.map((m) => m.replica);
  for (const rollout of view.rollouts) {
    const { version, decision } = rollout;
    if (decision?.verdict !== "reject" || rollout.removed !== undefined) continue;
    const holding = live.filter((r) => {
      const phase = rollout.reports[r]?.phase;
      return phase !== undefined && phase !== "unloaded";
    });
    if (holding.length > 0) continue;
    const action = ctx.opts.rollbackAction;
    const newName = quarantineName(version, decision.at);
    const onDisk = ctx.disk.get(version);
    if (onDisk === undefined) {
      const as = ctx.d.progress[version]?.quarantinedAs ?? (action === "delete" ? "deleted" : newName);
      return one(
        { kind: "fleet-mark-removed", model: ctx.model, version, as },
        `recording that rejected ${version} left the shared store (${as})`,
      );
    }
    if (version === ctx.stable || ctx.current?.specific.includes(version) === true) continue;
    return one(
      {
        kind: "quarantine",
        model: ctx.model,
        version,
        basePath: ctx.config.basePath,
        dirName: onDisk.dirName,
        action,
        newName,
        reason: `rejected by the fleet: ${decision.reason}`,
      },
      `${action === "delete" ? "deleting" : "renaming"} fleet-rejected ${version}: no live replica has it loaded`,
    );
  }
  return undefined;
}

/** Coordinator: open a rollout of the newest complete version above everything the fleet already judged. */
export function fleetOpen(ctx: Ctx): PlanResult | undefined {
  const view = ctx.d.fleet;
  if (view === undefined || !view.coordinator || openRollout(view) !== undefined) return undefined;
  const floor = maxVersion([
    ...view.rollouts.map((r) => r.version),
    ...[fleetStable(view) ?? ctx.stable].filter((v): v is Version => v !== undefined),
  ]);
  const above = [...ctx.disk.values()].filter(
    (v) => floor === undefined || compareVersions(v.version, floor) > 0,
  );
  const newest = maxVersion(above.filter((v) => v.admission === "complete").map((v) => v.version));
  const pending = sortVersions(
    above
      .filter((v) => v.admission === "pending")
      .map((v) => v.version)
      .filter((v) => newest === undefined || compareVersions(v, newest) > 0),
  );
  if (pending.length > 0)
    return waitFor(ctx.model, "admission-pending", `version(s) ${pending.join(", ")} still being copied`);
  if (newest === undefined) return undefined;
  return one(
    {
      kind: "fleet-open",
      model: ctx.model,
      version: newest,
      reason: `newest complete version above ${floor ?? "nothing"}`,
    },
    `opening the fleet's rollout of ${newest}`,
  );
}

/** Why the model waits while etcd is unreachable (plan.ts). */
export function fleetUnreachableWait(ctx: Ctx, view: FleetView): PlanResult {
  return waitFor(
    ctx.model,
    "fleet-unreachable",
    `the fleet's coordination backend is unreachable (${view.reason ?? "no answer"}); ${ctx.opts.stableLabel} stays on ${ctx.stable ?? "none"}, nothing is promoted, unloaded or removed until it answers`,
  );
}
