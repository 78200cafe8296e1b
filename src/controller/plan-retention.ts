/**
 * Retention (opt-in): when a scheduled run is due, ONE `reclaim` step deletes the directories of promoted versions
 * that were superseded, beyond the newest `keepPromoted` promoted ones, and the `.rejected-*` directories of
 * versions rejected longer than `keepRejectedForMs` ago. Never reclaimed: `stable`, the previous stable, a pinned
 * version, any labelled or listed version, anything TF Serving still holds, anything a rollout or an operator
 * intent is working on. Only while `stable` is verified (no promotion half done). A run that finds nothing still
 * records itself (an empty reclaim), so the next run waits for the next scheduled time.
 */
import type { PlanResult, ReclaimEntry, RetentionPolicy, Step, Version } from "./types.js";
import { compareVersions, isPlainChildName, sortVersions } from "./versions.js";
import { one, previousStable, type Ctx } from "./plan-context.js";

export const REJECTED_PREFIX = ".rejected-";

export function retention(ctx: Ctx): PlanResult | undefined {
  const policy = ctx.opts.retention;
  if (policy === undefined || ctx.current === undefined || ctx.stable === undefined) return undefined;
  if (ctx.d.retention !== undefined && ctx.d.retention.at >= policy.dueAt) return undefined;
  if (ctx.d.verified?.version !== ctx.stable) return undefined;
  const kept = keptVersions(ctx);
  const entries = [...supersededPromoted(ctx, policy, kept), ...expiredRejected(ctx, policy)];
  const reason =
    entries.length === 0
      ? "retention: nothing to reclaim"
      : `retention: reclaiming ${entries.map((e) => e.dirName).join(", ")}`;
  return one({ kind: "reclaim", model: ctx.model, basePath: ctx.config.basePath, entries, reason }, reason);
}

/** Versions whose directories retention never touches, with why. */
export function keptVersions(ctx: Ctx): Map<Version, string> {
  const kept = new Map<Version, string>();
  const keep = (version: Version | undefined, why: string) => {
    if (version !== undefined && !kept.has(version)) kept.set(version, why);
  };
  const { d } = ctx;
  keep(ctx.stable, ctx.opts.stableLabel);
  keep(previousStable(ctx), "previous stable");
  keep(lastPromotedBefore(ctx), "previous stable");
  keep(d.pin?.version, "pinned");
  for (const [label, v] of Object.entries(ctx.config.labels)) keep(v, `label ${label}`);
  for (const v of ctx.current?.specific ?? []) keep(v, "listed in specific");
  for (const s of ctx.statuses.values()) if (s.state !== "END") keep(s.version, `TF Serving: ${s.state}`);
  keep(d.promote?.version, "operator promotion");
  keep(d.rollback?.target, "operator rollback target");
  for (const v of d.rollback?.reject ?? []) keep(v, "operator rollback");
  for (const v of Object.keys(d.progress)) keep(v, "rollout in progress");
  for (const [v, r] of Object.entries(d.verdicts)) if (r.verdict === "candidate") keep(v, "candidate");
  keep(inFlightVersion(d.inFlight?.step), "step in flight");
  for (const intent of d.intents) {
    if ("version" in intent) keep(intent.version, `operator ${intent.kind}`);
    if (intent.kind === "rollback") keep(intent.to, "operator rollback");
  }
  return kept;
}

/** The most recently promoted version other than stable, loaded or not. */
function lastPromotedBefore(ctx: Ctx): Version | undefined {
  const promoted = Object.entries(ctx.d.verdicts)
    .filter(([v, r]) => r.verdict === "promoted" && v !== ctx.stable)
    .sort(([va, a], [vb, b]) => b.at - a.at || compareVersions(vb, va));
  return promoted[0]?.[0];
}

function supersededPromoted(ctx: Ctx, policy: RetentionPolicy, kept: Map<Version, string>): ReclaimEntry[] {
  const stable = ctx.stable as Version;
  const promoted = Object.entries(ctx.d.verdicts)
    .filter(([, r]) => r.verdict === "promoted")
    .sort(([va, a], [vb, b]) => b.at - a.at || compareVersions(vb, va))
    .map(([v]) => v);
  const beyond = promoted.slice(Math.max(0, policy.keepPromoted));
  return sortVersions(beyond)
    .filter((v) => compareVersions(v, stable) < 0 && !kept.has(v))
    .flatMap((version) => {
      const onDisk = ctx.disk.get(version);
      if (onDisk === undefined || !isPlainChildName(onDisk.dirName)) return [];
      return [
        {
          dirName: onDisk.dirName,
          version,
          what: "promoted" as const,
          why: `superseded by ${stable}; beyond the newest ${policy.keepPromoted} promoted`,
        },
      ];
    });
}

function expiredRejected(ctx: Ctx, policy: RetentionPolicy): ReclaimEntry[] {
  return Object.entries(ctx.d.verdicts)
    .filter(
      ([, r]) =>
        r.verdict === "rejected" &&
        r.quarantinedAs !== undefined &&
        r.quarantinedAs.startsWith(REJECTED_PREFIX) &&
        isPlainChildName(r.quarantinedAs) &&
        r.at + policy.keepRejectedForMs <= ctx.o.now,
    )
    .sort(([a], [b]) => compareVersions(a, b))
    .map(([version, r]) => ({
      dirName: r.quarantinedAs as string,
      version,
      what: "rejected" as const,
      why: `rejected ${new Date(r.at).toISOString()}, longer ago than the retention period`,
    }));
}

function inFlightVersion(step: Step | undefined): Version | undefined {
  if (step === undefined) return undefined;
  if ("version" in step && typeof step.version === "string") return step.version;
  if (step.kind === "admit") return step.candidate;
  if (step.kind === "start-rollback") return step.target;
  return undefined;
}
