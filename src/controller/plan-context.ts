/** What every planner of plan() reads (the observation digested once) and the helpers they share. */
import type {
  ConfigStep,
  DesiredState,
  DiskVersion,
  ModelPolicy,
  ObservedModelConfig,
  ObservedState,
  PlanOptions,
  PlanResult,
  Step,
  Version,
  WaitReason,
} from "./types.js";
import { compareVersions, maxVersion } from "./versions.js";
import { checkModelPolicy } from "./config-rules.js";
import type { VersionStatus } from "../tfserving/model-status.js";

export interface Ctx {
  d: DesiredState;
  o: ObservedState;
  opts: PlanOptions;
  model: string;
  config: ObservedModelConfig;
  statuses: Map<Version, VersionStatus>;
  /** The observed policy when it is `specific` (undefined under latest/all). */
  current: ModelPolicy | undefined;
  stable: Version | undefined;
  disk: Map<Version, DiskVersion>;
}

export type Planner = (ctx: Ctx) => PlanResult | undefined;

const CONFIG_STEPS = new Set<Step["kind"]>(["adopt", "load", "promote", "trim", "rollback-config", "canary"]);
export const isConfigStep = (step: Step): step is ConfigStep => CONFIG_STEPS.has(step.kind);

export function activePin(ctx: Ctx) {
  const pin = ctx.d.pin;
  if (pin === undefined || (pin.expiresAt !== undefined && pin.expiresAt <= ctx.o.now)) return undefined;
  return pin;
}

export function safety(ctx: Ctx, proposed: ModelPolicy) {
  return checkModelPolicy(proposed, {
    model: ctx.model,
    before: ctx.config,
    status: ctx.o.status,
    stableLabel: ctx.opts.stableLabel,
    readmitted: Object.keys(ctx.d.progress).filter((v) => ctx.d.progress[v]?.retried === true),
  });
}

export function safetyWait(ctx: Ctx, proposed: ModelPolicy, kind: Step["kind"]): PlanResult | undefined {
  const violations = safety(ctx, proposed);
  if (violations.length === 0) return undefined;
  return waitFor(
    ctx.model,
    "unsafe-config",
    `${kind} held back: ${violations.map((v) => v.message).join("; ")}`,
  );
}

/**
 * TF Serving still holds `version` (START, LOADING, AVAILABLE or UNLOADING) although the applied `specific` list
 * does not name it: an incarnation it no longer aspires to, typically one it loaded by itself under `latest` just
 * before adoption pinned `specific`. Asking for it now would be parked until it has unloaded (facts §4), and its
 * states until then say nothing about the load we would ask for: wait until it has ended.
 */
export function heldUndesired(ctx: Ctx, version: Version): PlanResult | undefined {
  const state = ctx.statuses.get(version)?.state;
  if (state === undefined || state === "END" || ctx.current?.specific.includes(version) !== false)
    return undefined;
  return waitFor(
    ctx.model,
    "unloading",
    `version ${version} is still ${state} in TF Serving although specific no longer names it; it is put back once it has unloaded`,
  );
}

/**
 * After our load of a version TF Serving had unloaded before (e.g. loaded under `latest`, then dropped by
 * adoption), GetModelStatus keeps reporting that old END with OK until the manager starts the new load (it acts
 * every 100 ms): not a failure of our load, so wait for START/LOADING (the load deadline still applies). A
 * directory gone from disk is left to await-available, which fails it.
 */
export function staleUnload(ctx: Ctx, version: Version): PlanResult | undefined {
  const status = ctx.statuses.get(version);
  if (status?.state !== "END" || status.error_code !== "OK" || !ctx.disk.has(version)) return undefined;
  return waitFor(
    ctx.model,
    "unloading",
    `TF Serving still reports version ${version} as unloaded (END) from before; waiting for it to start loading it again`,
  );
}

/**
 * A candidate admitted before a restart is checked afresh by the new daemon's scanner, whose quiet window starts
 * over: "pending" again means wait, not "incomplete" (only "overdue" or a vanished directory is).
 */
export function candidateRechecked(ctx: Ctx, why: string, version: Version): PlanResult | undefined {
  if (why !== "candidate" || ctx.disk.get(version)?.admission !== "pending") return undefined;
  return waitFor(
    ctx.model,
    "admission-pending",
    `candidate ${version} is checked for completeness again before it is loaded`,
  );
}

export function one(step: Step, reason: string): PlanResult {
  return { steps: [step], reason };
}

export function waitFor(model: string, reason: WaitReason, detail: string): PlanResult {
  return { steps: [{ kind: "wait", model, reason, detail }], reason: detail };
}

export const unjudged = (ctx: Ctx, version: Version): boolean => ctx.d.verdicts[version] === undefined;
export const aboveStable = (ctx: Ctx, version: Version): boolean =>
  ctx.stable === undefined || compareVersions(version, ctx.stable) > 0;

export function newestAdmissible(ctx: Ctx): DiskVersion | undefined {
  const admissible = [...ctx.disk.values()].filter(
    (v) => v.admission === "complete" && unjudged(ctx, v.version) && aboveStable(ctx, v.version),
  );
  return admissible.sort((a, b) => compareVersions(a.version, b.version)).at(-1);
}

/** The candidate under way; one that fell below stable (stable moved by hand) no longer counts. */
export function candidateVersion(ctx: Ctx): Version | undefined {
  return maxVersion(
    openCandidates(ctx).filter((v) => ctx.stable === undefined || compareVersions(v, ctx.stable) >= 0),
  );
}

export const openCandidates = (ctx: Ctx): Version[] =>
  Object.entries(ctx.d.verdicts)
    .filter(([v, r]) => r.verdict === "candidate" && ctx.d.progress[v]?.failure === undefined)
    .map(([v]) => v);

/** The most recently promoted version other than stable that is still listed; else the highest listed below it. */
export function previousStable(ctx: Ctx): Version | undefined {
  const { stable, current, d } = ctx;
  if (stable === undefined) return undefined;
  const listed = current?.specific ?? [];
  const promoted = Object.entries(d.verdicts)
    .filter(
      ([v, r]) =>
        r.verdict === "promoted" && v !== stable && compareVersions(v, stable) < 0 && listed.includes(v),
    )
    .sort(([va, a], [vb, b]) => b.at - a.at || compareVersions(vb, va));
  if (promoted[0] !== undefined) return promoted[0][0];
  return maxVersion(listed.filter((v) => compareVersions(v, stable) < 0));
}
