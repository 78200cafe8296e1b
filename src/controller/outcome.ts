/**
 * How a step's outcome changes the desired state: the pure fold the executor applies after journaling a step
 * "done" or "failed", so that the next plan() sees its effect. The executor persists the resulting
 * ControllerRecord (see `controllerRecord`) and marks `consumedIntent` consumed in the intent queue.
 */
import type { ControllerRecord, DesiredState, Step, Version, VersionProgress } from "./types.js";
import { isConfigStep } from "./plan-context.js";

export interface StepOutcome {
  /** Applied (for gate: passed; for await-available: AVAILABLE; for verify: resolved to the version). */
  ok: boolean;
  /** What happened, for verdicts and logs (gate report summary, END error, ...). */
  reason: string;
  /** For a failed config step: whether models.config had already been written (the reload failed after). */
  written?: boolean;
  /** Who applied it; verdicts record it (default "daemon"). */
  by?: string;
  /** The step's full report for the journal (the gate's bounded GateResult); never folded into the record. */
  report?: Record<string, unknown>;
}

export interface Folded {
  desired: DesiredState;
  /** The intent this step consumed, if any. */
  consumedIntent?: string;
}

export function applyOutcome(desired: DesiredState, step: Step, outcome: StepOutcome, now: number): Folded {
  const d: DesiredState = structuredClone({ ...desired, inFlight: undefined });
  const by = outcome.by ?? "daemon";
  const progress = (v: Version): VersionProgress => (d.progress[v] ??= {});
  const consume = (intentId: string | undefined): Folded => {
    if (intentId === undefined) return { desired: d };
    d.intents = d.intents.filter((i) => i.id !== intentId);
    return { desired: d, consumedIntent: intentId };
  };

  if (isConfigStep(step) && (outcome.ok || outcome.written === true)) d.lastWritten = step.config;
  if (isConfigStep(step)) {
    if (outcome.ok) delete d.reloadPending;
    else if (outcome.written === true) d.reloadPending = step;
  }
  switch (step.kind) {
    case "load":
      if (outcome.ok) progress(step.version).loadStartedAt = now;
      break;
    case "await-available":
      // A fleet rollout's miss is reported to the fleet (plan-fleet.ts), which decides.
      if (!outcome.ok && step.fleet !== true)
        progress(step.version).failure = { reason: outcome.reason, at: now, by, allowServing: false };
      break;
    case "gate":
      progress(step.version).gate = { passed: outcome.ok, reason: outcome.reason, at: now };
      if (!outcome.ok && step.fleet !== true)
        progress(step.version).failure = {
          reason: `gate failed: ${outcome.reason}`,
          at: now,
          by,
          allowServing: false,
        };
      break;
    case "verify":
      if (outcome.ok) {
        d.verified = { version: step.version, at: now };
        if (d.verdicts[step.version]?.verdict !== "promoted" && wasTarget(d, step.version)) {
          d.verdicts[step.version] = { verdict: "promoted", reason: outcome.reason, at: now, by };
        }
        // The rollout of this version is over; only a retry mark outlives it.
        if (d.progress[step.version]?.retried === true) d.progress[step.version] = { retried: true };
        else delete d.progress[step.version];
      }
      break;
    case "quarantine":
      if (outcome.ok)
        progress(step.version).quarantinedAs = step.action === "delete" ? "deleted" : step.newName;
      break;
    case "mark-failed":
      progress(step.version).failure = {
        reason: step.reason,
        at: now,
        by,
        allowServing: step.allowServing === true,
      };
      break;
    case "fleet-mark-removed":
      if (outcome.ok) foldRemoved(d, step.version, step.as);
      break;
    case "record-verdict":
      d.verdicts[step.version] = {
        verdict: step.verdict,
        reason: step.reason,
        at: now,
        by,
        ...(d.progress[step.version]?.quarantinedAs
          ? { quarantinedAs: d.progress[step.version]?.quarantinedAs }
          : {}),
      };
      if (step.verdict !== "candidate" && step.verdict !== "promoted") delete d.progress[step.version];
      break;
    case "admit":
      d.verdicts[step.candidate] = { verdict: "candidate", reason: "newest complete version", at: now, by };
      for (const v of step.skipped) {
        d.verdicts[v] = {
          verdict: "skipped",
          reason: `superseded by ${step.candidate} before rollout`,
          at: now,
          by,
        };
      }
      break;
    case "accept-hand-edit":
      delete d.reloadPending;
      acceptHandEdit(d, step, now);
      break;
    case "set-pin":
      if (step.pin === null) delete d.pin;
      else d.pin = step.pin;
      return consume(step.intentId);
    case "clear-verdict":
      delete d.verdicts[step.version];
      d.progress[step.version] = { retried: true };
      return consume(step.intentId);
    case "start-rollback":
      d.rollback = { intentId: step.intentId, target: step.target, reject: step.reject, action: step.action };
      for (const v of step.reject) {
        progress(v).failure = {
          reason: `${step.by === "auto-rollback" ? "automatic rollback (bake probe failed)" : "operator rollback"} to ${step.target}`,
          at: now,
          by,
          allowServing: true,
        };
      }
      break;
    case "abandon":
      if (step.written !== undefined) d.lastWritten = step.written;
      break;
    case "start-promote":
      d.promote = { intentId: step.intentId, version: step.version, skipGates: step.skipGates };
      break;
    case "request-approval":
      progress(step.version).approval = { requestedAt: now, deadline: step.deadline };
      break;
    case "canary":
      if (outcome.ok) progress(step.version).canaryAt = now;
      break;
    case "reclaim":
      // Also when it failed: the next scheduled run tries again, not the next pass.
      d.retention = { at: now };
      if (outcome.ok) {
        for (const entry of step.entries) {
          const record = d.verdicts[entry.version];
          if (entry.what === "rejected" && record?.quarantinedAs === entry.dirName)
            record.quarantinedAs = "deleted";
        }
      }
      break;
    case "finish-intent":
      if (d.rollback?.intentId === step.intentId) {
        if (step.outcome === "refused") {
          // The rollback could not move stable back: its versions are no longer to be taken out.
          for (const v of d.rollback.reject) {
            if (d.progress[v]?.failure?.allowServing === true) delete d.progress[v]?.failure;
          }
        }
        delete d.rollback;
      }
      if (d.promote?.intentId === step.intentId) delete d.promote;
      return consume(step.intentId);
  }
  return { desired: d };
}

/** The fleet recorded the rejected directory's removal: the local record says where it went. */
function foldRemoved(d: DesiredState, version: Version, as: string): void {
  const record = d.verdicts[version];
  if (record !== undefined) record.quarantinedAs = as;
  if (d.progress[version]?.failure === undefined) delete d.progress[version];
}

/** An adopted stable is verified but not recorded as promoted: the controller did not promote it. */
function wasTarget(d: DesiredState, version: Version): boolean {
  return (
    d.verdicts[version]?.verdict === "candidate" ||
    d.progress[version] !== undefined ||
    d.promote?.version === version ||
    d.pin?.version === version ||
    d.rollback?.target === version
  );
}

/** The hand edit is the new reality: remember it as written; a moved `stable` is an operator promotion. */
function acceptHandEdit(
  d: DesiredState,
  step: Extract<Step, { kind: "accept-hand-edit" }>,
  now: number,
): void {
  const { observed } = step;
  d.lastWritten =
    observed.policy.kind === "specific"
      ? { specific: [...observed.policy.versions], labels: { ...observed.labels } }
      : undefined;
  const { stableLabel } = step;
  const stable = observed.labels[stableLabel];
  if (stable !== undefined && stable !== step.previous.labels[stableLabel]) {
    d.verdicts[stable] = {
      verdict: "promoted",
      reason: "stable moved by a hand edit of models.config",
      at: now,
      by: "hand-edit",
    };
    d.verified = undefined;
  }
  // A candidate the operator took out of specific is dropped, not failed: the operator decided.
  const listed = observed.policy.kind === "specific" ? observed.policy.versions : [];
  for (const [v, record] of Object.entries(d.verdicts)) {
    if (record.verdict === "candidate" && d.progress[v]?.loadStartedAt !== undefined && !listed.includes(v)) {
      d.verdicts[v] = {
        verdict: "skipped",
        reason: "removed from models.config by hand during its rollout",
        at: now,
        by: "hand-edit",
      };
      delete d.progress[v];
    }
  }
}

export function controllerRecord(desired: DesiredState): ControllerRecord {
  const { verdicts, progress, pin, lastWritten, verified, rollback, promote, retention, reloadPending } =
    desired;
  return { verdicts, progress, pin, lastWritten, verified, rollback, promote, retention, reloadPending };
}
