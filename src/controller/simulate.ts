/**
 * A dry run of the next reconcile (`tfs-rollout plan`). plan() returns ONE step at a time, so the simulator plays
 * the executor on copies of the desired and observed state, assuming every step succeeds:
 *
 *   config step (adopt, load, promote, trim, rollback-config) → models.config holds the step's policy and labels;
 *     a newly listed version becomes AVAILABLE (a load that works), an unlisted one ends (unloaded, OK)
 *   await-available → the version is AVAILABLE; gate, verify → pass (nothing observable changes)
 *   quarantine → the version's directory is gone from disk
 *   every step → `applyOutcome` folds it into the desired state, exactly as the engine does
 *
 * It stops when plan() converges, when it waits (its reason says for what), or after `maxSteps`. Pure: no I/O and
 * no clock (time advances by one millisecond per step from `observed.now`).
 */
import { applyOutcome } from "./outcome.js";
import { isConfigStep, plan } from "./plan.js";
import type {
  DesiredState,
  ModelPolicy,
  ObservedModelConfig,
  ObservedState,
  PlanOptions,
  Step,
} from "./types.js";
import type { VersionStatus } from "../tfserving/model-status.js";

export const DEFAULT_SIMULATION_STEPS = 50;

export interface SimulatedStep {
  step: Step;
  /** plan()'s reason for the step. */
  reason: string;
  /** What was observed when plan() chose the step (models.config entry, TF Serving status). */
  before: ObservedState;
  /** The desired state plan() chose the step from. */
  desired: DesiredState;
}

export type SimulationEnd =
  | { kind: "converged"; reason: string }
  | { kind: "wait"; reason: string; step: Extract<Step, { kind: "wait" }> }
  | { kind: "limit"; reason: string };

export interface Simulation {
  steps: SimulatedStep[];
  end: SimulationEnd;
  /** The model's entry in models.config after the simulated steps (undefined when it has none). */
  finalConfig: ObservedModelConfig | undefined;
  /** The policy and labels written by the last simulated config step; undefined when no config step ran. */
  finalPolicy: ModelPolicy | undefined;
  desired: DesiredState;
  observed: ObservedState;
}

export function simulate(
  desired: DesiredState,
  observed: ObservedState,
  options: PlanOptions,
  maxSteps = DEFAULT_SIMULATION_STEPS,
): Simulation {
  let d = structuredClone(desired);
  const o = structuredClone(observed);
  const steps: SimulatedStep[] = [];
  let finalPolicy: ModelPolicy | undefined;
  for (let i = 0; i < maxSteps; i++) {
    const result = plan(d, o, options);
    const step = result.steps[0];
    const done = (end: SimulationEnd): Simulation => ({
      steps,
      end,
      finalConfig: o.config,
      finalPolicy,
      desired: d,
      observed: o,
    });
    if (step === undefined) return done({ kind: "converged", reason: result.reason });
    if (step.kind === "wait") return done({ kind: "wait", reason: result.reason, step });
    steps.push({ step, reason: result.reason, before: structuredClone(o), desired: d });
    if (isConfigStep(step)) finalPolicy = structuredClone(step.config);
    d = applyOutcome(d, step, { ok: true, reason: successReason(step) }, o.now).desired;
    applyToObserved(o, d, step);
    o.now += 1;
  }
  return {
    steps,
    end: { kind: "limit", reason: `not converged after ${maxSteps} simulated steps` },
    finalConfig: o.config,
    finalPolicy,
    desired: d,
    observed: o,
  };
}

/** What a successful step changes in the world (models.config, TF Serving, the disk). */
function applyToObserved(o: ObservedState, d: DesiredState, step: Step): void {
  if (isConfigStep(step)) {
    if (o.config === undefined) return;
    o.config = {
      ...o.config,
      policy: { kind: "specific", versions: [...step.config.specific] },
      labels: { ...step.config.labels },
    };
    if (o.status.kind !== "reachable") return;
    const byVersion = new Map(o.status.versions.map((s) => [s.version, s]));
    for (const v of step.config.specific) {
      const s = byVersion.get(v);
      if (s === undefined || s.state !== "AVAILABLE") byVersion.set(v, status(v, "AVAILABLE"));
    }
    for (const [v, s] of byVersion) {
      if (!step.config.specific.includes(v) && s.state !== "END") byVersion.set(v, status(v, "END"));
    }
    o.status = { kind: "reachable", versions: [...byVersion.values()] };
    return;
  }
  if (step.kind === "await-available" && o.status.kind === "reachable") {
    o.status = {
      kind: "reachable",
      versions: [
        ...o.status.versions.filter((s) => s.version !== step.version),
        status(step.version, "AVAILABLE"),
      ],
    };
  }
  if (step.kind === "quarantine") d.disk = d.disk.filter((v) => v.version !== step.version);
  if (step.kind === "reclaim") {
    const gone = new Set(step.entries.map((e) => e.dirName));
    d.disk = d.disk.filter((v) => !gone.has(v.dirName));
  }
}

function status(version: string, state: VersionStatus["state"]): VersionStatus {
  return { version, state, error_code: "OK", error_message: "" };
}

function successReason(step: Step): string {
  switch (step.kind) {
    case "gate":
      return "dry run: gate assumed to pass";
    case "await-available":
      return "dry run: assumed AVAILABLE";
    case "verify":
      return `dry run: ${step.label} assumed to resolve to ${step.version}`;
    case "record-verdict":
    case "mark-failed":
    case "abandon":
    case "finish-intent":
      return step.reason;
    default:
      return "dry run";
  }
}
