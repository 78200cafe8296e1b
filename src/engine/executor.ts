/**
 * Applies ONE planned step (not `wait`) and says how it went; journaling, locking and folding are the
 * reconciler's (reconciler.ts). Config steps go through config-step.ts (config-wide lock, re-read and compare,
 * safety check, atomic write, reload with the written bytes), probes through probe-steps.ts, quarantine through
 * quarantine.ts; bookkeeping steps only change the journaled record, so they succeed as they are.
 */
import type { StepOutcome } from "../controller/outcome.js";
import { isConfigStep } from "../controller/plan.js";
import type { DesiredState, ObservedModelConfig, Step } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import type { Locks } from "../state/store.js";
import { applyConfigStep } from "./config-step.js";
import { applyProbe, type ProbeDeps } from "./probe-steps.js";
import { applyQuarantine } from "./quarantine.js";
import { applyReclaim } from "./retention.js";
import { applyRestore } from "./restore.js";
import { isFleetStep, type FleetLink } from "./fleet-steps.js";
import type { ReloadCoalescer } from "./reload-coalescer.js";

export interface ExecutorDeps extends ProbeDeps {
  modelConfigPath: string;
  locks: Pick<Locks, "withConfigLock">;
  stableLabel: string;
  coalescer?: ReloadCoalescer;
  /** Fleet mode (engine/fleet-session.ts); absent: local mode. */
  fleet?: FleetLink;
}

export interface StepContext {
  observed: ObservedModelConfig | undefined;
  desired: DesiredState;
  settings: ModelConfigView;
}

export interface StepResult {
  outcome: StepOutcome;
  /** Extra fields for the step's log event (gate checks, failing exchange). */
  details?: Record<string, unknown>;
}

export async function executeStep(deps: ExecutorDeps, step: Step, context: StepContext): Promise<StepResult> {
  if (isConfigStep(step)) {
    const readmitted = Object.entries(context.desired.progress)
      .filter(([, p]) => p.retried === true)
      .map(([v]) => v);
    return { outcome: await applyConfigStep(deps, step, { observed: context.observed, readmitted }) };
  }
  if (isFleetStep(step))
    return {
      outcome: deps.fleet ? await deps.fleet.apply(step) : { ok: false, reason: "not in fleet mode" },
    };
  switch (step.kind) {
    case "await-available":
    case "gate":
    case "verify":
      return applyProbe(deps, step, context.settings, {
        ...(context.observed ? { basePath: context.observed.basePath } : {}),
        dirNames: new Map(context.desired.disk.map((v) => [v.version, v.dirName])),
      });
    case "quarantine":
      return { outcome: await applyQuarantine(step, deps.modelConfigPath, deps.stableLabel) };
    case "reclaim":
      return applyReclaim(step, deps.modelConfigPath, deps.stableLabel);
    case "clear-verdict":
      if (step.restoreFrom === undefined) return { outcome: { ok: true, reason: "rejection cleared" } };
      return { outcome: await applyRestore(step, context.observed?.basePath) };
    case "wait":
      throw new Error("a wait step is not executed: the reconciler re-plans later");
    default:
      return { outcome: { ok: true, reason: recordReason(step) } };
  }
}

function recordReason(step: Step): string {
  switch (step.kind) {
    case "admit":
      return step.skipped.length > 0
        ? `candidate ${step.candidate}; skipped older never-promoted ${step.skipped.join(", ")}`
        : `candidate ${step.candidate}`;
    case "record-verdict":
    case "mark-failed":
    case "abandon":
    case "finish-intent":
    case "request-approval":
      return step.reason;
    case "accept-hand-edit":
      return `hand edit of models.config accepted as intent: ${step.changes.join("; ")}`;
    default:
      return "recorded";
  }
}
