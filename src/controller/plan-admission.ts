/** Admission of new versions, and trimming old ones after a verified promotion. */
import type { PlanResult, Version } from "./types.js";
import { compareVersions, modelPolicy, sortVersions } from "./versions.js";
import {
  safetyWait,
  one,
  waitFor,
  unjudged,
  aboveStable,
  newestAdmissible,
  openCandidates,
  previousStable,
  type Ctx,
} from "./plan-context.js";

export function admission(ctx: Ctx): PlanResult | undefined {
  const { d, model } = ctx;
  const stale = sortVersions(openCandidates(ctx)).find(
    (v) => ctx.stable !== undefined && compareVersions(v, ctx.stable) < 0,
  );
  if (stale !== undefined) {
    return one(
      {
        kind: "record-verdict",
        model,
        version: stale,
        verdict: "skipped",
        reason: `superseded: ${ctx.opts.stableLabel} is already ${ctx.stable}`,
      },
      `candidate ${stale} is older than ${ctx.opts.stableLabel} ${ctx.stable}; skipping it`,
    );
  }
  const overdue = [...ctx.disk.values()].find(
    (v) => v.admission === "overdue" && d.verdicts[v.version] === undefined,
  );
  if (overdue !== undefined) {
    return one(
      {
        kind: "record-verdict",
        model,
        version: overdue.version,
        verdict: "incomplete",
        reason: "never completed before the admission deadline",
      },
      `version ${overdue.version} never completed; it will not be loaded`,
    );
  }
  const newest = newestAdmissible(ctx);
  const pending = [...ctx.disk.values()].filter(
    (v) =>
      v.admission === "pending" &&
      aboveStable(ctx, v.version) &&
      (newest === undefined || compareVersions(v.version, newest.version) > 0),
  );
  if (pending.length > 0) {
    return waitFor(
      model,
      "admission-pending",
      `version(s) ${sortVersions(pending.map((v) => v.version)).join(", ")} still being copied`,
    );
  }
  if (newest === undefined) return undefined;
  const skipped = sortVersions(
    [...ctx.disk.values()]
      .filter((v) => v.admission === "complete" && unjudged(ctx, v.version) && aboveStable(ctx, v.version))
      .map((v) => v.version)
      .filter((v) => v !== newest.version),
  );
  return one(
    { kind: "admit", model, candidate: newest.version, skipped },
    `admitting ${newest.version} as candidate${skipped.length ? `; skipping older ${skipped.join(", ")}` : ""}`,
  );
}

/**
 * After a verified promotion: unload versions below `stable` older than the previous ones kept warm as instant
 * rollback targets (`keepPrevious`, default 1, most recently promoted first). During the bake period at least the
 * previous version stays; keepPrevious 0 unloads it once the bake period is over (the engine re-plans then).
 * Labelled versions are never unloaded.
 */
export function trim(ctx: Ctx): PlanResult | undefined {
  const { current, stable, d } = ctx;
  if (current === undefined || stable === undefined) return undefined;
  if (d.verdicts[stable]?.verdict !== "promoted" || d.verified?.version !== stable) return undefined;
  const baking = ctx.o.now < d.verified.at + (ctx.opts.bakePeriodMs ?? 0);
  const keep = Math.max(ctx.opts.keepPrevious ?? 1, baking ? 1 : 0);
  const kept = keptPrevious(ctx, keep);
  const oldestKept = kept.reduce<Version | undefined>(
    (oldest, v) => (oldest === undefined || compareVersions(v, oldest) < 0 ? v : oldest),
    undefined,
  );
  const cutoff = oldestKept ?? stable;
  const labelled = new Set(Object.values(current.labels));
  const dropped = current.specific.filter((v) => compareVersions(v, cutoff) < 0 && !labelled.has(v));
  if (dropped.length === 0) return undefined;
  const proposed = modelPolicy(
    current.specific.filter((v) => !dropped.includes(v)),
    current.labels,
  );
  const blocked = safetyWait(ctx, proposed, "trim");
  if (blocked) return blocked;
  const why =
    oldestKept === undefined
      ? `the bake period of ${stable} is over and no previous version is kept (keep_previous 0)`
      : `older than the ${kept.length === 1 ? "previous version" : `${kept.length} previous versions`} kept loaded (${sortVersions(kept).join(", ")})`;
  return one(
    { kind: "trim", model: ctx.model, config: proposed, dropped },
    `unloading ${dropped.join(", ")}: ${why}`,
  );
}

/** The `keep` previous versions kept warm: listed promoted ones below stable, most recent first; else the highest. */
function keptPrevious(ctx: Ctx, keep: number): Version[] {
  if (keep <= 0) return [];
  const first = previousStable(ctx);
  if (first === undefined) return [];
  const stable = ctx.stable!;
  const listed = ctx.current?.specific ?? [];
  const promoted = Object.entries(ctx.d.verdicts)
    .filter(
      ([v, r]) =>
        r.verdict === "promoted" && v !== first && compareVersions(v, stable) < 0 && listed.includes(v),
    )
    .sort(([va, a], [vb, b]) => b.at - a.at || compareVersions(vb, va))
    .map(([v]) => v);
  return [first, ...promoted].slice(0, keep);
}

/** The most recently promoted version other than stable that is still listed; else the highest listed below it. */
