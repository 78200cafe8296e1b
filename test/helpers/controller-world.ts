/**
 * A tiny simulated world for controller tests: models.config (one model), TF Serving's per-version states with
 * its label rule, and the version directories. `execute` plays the executor; `run` loops plan → execute → fold.
 * Every reload is checked like TF Serving does with --allow_version_labels_for_unavailable_models off, and every
 * quarantine against the rules, so a bad step fails the test loudly.
 */
import { applyOutcome, type StepOutcome } from "../../src/controller/outcome.js";
import { plan } from "../../src/controller/plan.js";
import type {
  DesiredState,
  DiskVersion,
  ObservedModelConfig,
  ObservedState,
  PlanOptions,
  PlanResult,
  Step,
  Version,
} from "../../src/controller/types.js";
import { DEFAULT_PLAN_OPTIONS } from "../../src/controller/types.js";
import type { VersionStatus } from "../../src/tfserving/model-status.js";

/** What a version does when TF Serving loads it, and what the smoke gate says. */
export type Behaviour = "ok" | "end" | "stuck" | "gate-fail";

export interface World {
  now: number;
  reachable: boolean;
  config: ObservedModelConfig;
  tf: Map<Version, VersionStatus>;
  disk: DiskVersion[];
  behaviour: Record<Version, Behaviour>;
  /** Names the quarantine renamed to, or "deleted". */
  quarantined: Record<Version, string>;
  reloads: number;
}

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
export const OPTS: PlanOptions = { ...DEFAULT_PLAN_OPTIONS, loadTimeoutMs: 60_000 };

export const status = (version: Version, state: VersionStatus["state"], error = ""): VersionStatus => ({
  version,
  state,
  error_code: error ? "UNKNOWN" : "OK",
  error_message: error,
});

export const complete = (...versions: Version[]): DiskVersion[] =>
  versions.map((version) => ({ version, dirName: version, admission: "complete" }));

/** A model already under the controller: specific `listed` all AVAILABLE, stable on `stable` (promoted, verified). */
export function managed(
  listed: Version[],
  stable: Version,
  diskVersions: Version[] = listed,
): { d: DesiredState; w: World } {
  const config: ObservedModelConfig = {
    basePath: "/models/m",
    platform: "tensorflow",
    policy: { kind: "specific", versions: [...listed] },
    labels: { stable },
  };
  const w: World = {
    now: T0,
    reachable: true,
    config,
    tf: new Map(listed.map((v) => [v, status(v, "AVAILABLE")])),
    disk: complete(...diskVersions),
    behaviour: {},
    quarantined: {},
    reloads: 0,
  };
  const d: DesiredState = {
    model: "m",
    disk: w.disk,
    intents: [],
    verdicts: Object.fromEntries(
      listed.map((v) => [
        v,
        { verdict: "promoted" as const, reason: "earlier", at: T0 - 100_000 + Number(v), by: "daemon" },
      ]),
    ),
    progress: {},
    lastWritten: { specific: [...listed], labels: { stable } },
    verified: { version: stable, at: T0 - 1 },
  };
  return { d, w };
}

export function observe(w: World): ObservedState {
  return {
    config: structuredClone(w.config),
    status: w.reachable
      ? { kind: "reachable", versions: [...w.tf.values()].map((s) => ({ ...s })) }
      : { kind: "unreachable", reason: "connection refused" },
    now: w.now,
  };
}

const ok = (reason = "ok"): StepOutcome => ({ ok: true, reason });
const failed = (reason: string): StepOutcome => ({ ok: false, reason });

export function execute(w: World, step: Step): StepOutcome {
  switch (step.kind) {
    case "adopt":
    case "load":
    case "promote":
    case "trim":
    case "rollback-config":
    case "canary":
      return reload(w, step.config.specific, step.config.labels);
    case "await-available": {
      const s = w.tf.get(step.version);
      if (s?.state === "AVAILABLE") return ok();
      if (s?.state === "END") return failed(`END: ${s.error_message}`);
      w.now = Math.max(w.now, step.deadline);
      return failed("deadline");
    }
    case "gate":
      return w.behaviour[step.version] === "gate-fail" ? failed("output has NaN") : ok("2 requests ok");
    case "verify":
      return w.config.labels[step.label] === step.version
        ? ok("stable resolves")
        : failed("resolves elsewhere");
    case "quarantine": {
      if (step.version === w.config.labels.stable) throw new Error(`quarantine of stable ${step.version}`);
      if (w.config.policy.kind === "specific" && w.config.policy.versions.includes(step.version)) {
        throw new Error(`quarantine of listed version ${step.version}`);
      }
      w.disk = w.disk.filter((v) => v.version !== step.version);
      w.quarantined[step.version] = step.action === "delete" ? "deleted" : step.newName;
      return ok();
    }
    case "reclaim": {
      for (const entry of step.entries) {
        if (entry.what !== "promoted") continue;
        if (entry.version === w.config.labels.stable) throw new Error(`reclaim of stable ${entry.version}`);
        if (w.config.policy.kind === "specific" && w.config.policy.versions.includes(entry.version))
          throw new Error(`reclaim of listed version ${entry.version}`);
        w.disk = w.disk.filter((v) => v.version !== entry.version);
      }
      return ok(`reclaimed ${step.entries.length}`);
    }
    case "wait":
      throw new Error("wait is not executed");
    default:
      return ok();
  }
}

/**
 * An operator's hand edit of models.config, picked up by TF Serving. Returns false (and changes nothing) when TF
 * Serving would reject it, as an operator would then see the error and not keep the edit.
 */
export function handEdit(w: World, specific: Version[], labels: Record<string, Version>): boolean {
  if (specific.length === 0) return false;
  if (Object.values(labels).some((v) => w.tf.get(v)?.state !== "AVAILABLE" || !specific.includes(v)))
    return false;
  reload(w, specific, labels);
  return true;
}

/** TF Serving's ReloadConfig with the label rule, then the manager reacting to the new policy. */
function reload(w: World, specific: Version[], labels: Record<string, Version>): StepOutcome {
  if (specific.length === 0) throw new Error("empty specific list written");
  for (const [label, v] of Object.entries(labels)) {
    if (w.tf.get(v)?.state !== "AVAILABLE") {
      throw new Error(`TF Serving would reject: label ${label} → ${v}, which is not AVAILABLE`);
    }
  }
  w.reloads++;
  w.config = { ...w.config, policy: { kind: "specific", versions: [...specific] }, labels: { ...labels } };
  for (const v of specific) {
    const s = w.tf.get(v);
    if (s === undefined || (s.state === "END" && s.error_code === "OK")) w.tf.set(v, status(v, "LOADING"));
  }
  for (const [v, s] of w.tf) {
    if (!specific.includes(v) && s.state !== "END") w.tf.set(v, status(v, "END"));
  }
  return ok();
}

/** LOADING versions finish loading (or fail, or stay stuck) when someone waits for them. */
export function settle(w: World): void {
  for (const [v, s] of w.tf) {
    if (s.state !== "LOADING") continue;
    const b = w.behaviour[v] ?? "ok";
    if (b === "end") w.tf.set(v, status(v, "END", "Could not find SavedModel .pb"));
    else if (b !== "stuck") w.tf.set(v, status(v, "AVAILABLE"));
  }
}

export interface Run {
  desired: DesiredState;
  steps: Step[];
  last: PlanResult;
}

/** plan → execute → fold until converged or waiting (or `max` steps). */
export function run(desired: DesiredState, w: World, options: PlanOptions = OPTS, max = 40): Run {
  let d = desired;
  const steps: Step[] = [];
  for (let i = 0; i < max; i++) {
    d = { ...d, disk: w.disk };
    const result = plan(d, observe(w), options);
    const step = result.steps[0];
    if (step === undefined || step.kind === "wait") return { desired: d, steps, last: result };
    steps.push(step);
    if (step.kind === "await-available") settle(w);
    const outcome = execute(w, step);
    d = applyOutcome(d, step, outcome, w.now).desired;
    w.now += 1000;
  }
  throw new Error(`no convergence after ${max} steps: ${steps.map((s) => s.kind).join(" → ")}`);
}

export const kinds = (steps: Step[]): string[] => steps.map((s) => s.kind);
