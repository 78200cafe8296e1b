/** Admission of new versions, and trimming old ones after a verified promotion. */
import type { PlanResult } from "./types.js";
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

export function trim(ctx: Ctx): PlanResult | undefined {
  const { current, stable, d } = ctx;
  if (current === undefined || stable === undefined) return undefined;
  if (d.verdicts[stable]?.verdict !== "promoted" || d.verified?.version !== stable) return undefined;
  const previous = previousStable(ctx);
  if (previous === undefined) return undefined;
  const labelled = new Set(Object.values(current.labels));
  const dropped = current.specific.filter((v) => compareVersions(v, previous) < 0 && !labelled.has(v));
  if (dropped.length === 0) return undefined;
  const proposed = modelPolicy(
    current.specific.filter((v) => !dropped.includes(v)),
    current.labels,
  );
  const blocked = safetyWait(ctx, proposed, "trim");
  if (blocked) return blocked;
  return one(
    { kind: "trim", model: ctx.model, config: proposed, dropped },
    `unloading ${dropped.join(", ")}, older than previous stable ${previous}`,
  );
}

/** The most recently promoted version other than stable that is still listed; else the highest listed below it. */
