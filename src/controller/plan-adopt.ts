/** Adoption of a model not yet under an explicit `specific` policy with a `stable` label. */
import type { PlanResult, Version } from "./types.js";
import { isAvailable, maxVersion, modelPolicy } from "./versions.js";
import { safetyWait, one, waitFor, type Ctx } from "./plan-context.js";

export function adopt(ctx: Ctx): PlanResult | undefined {
  const { config, opts, model } = ctx;
  if (ctx.current !== undefined && ctx.stable !== undefined) return undefined;
  const candidates =
    config.policy.kind === "specific"
      ? config.policy.versions
      : [...ctx.statuses.values()].map((s) => s.version);
  const available = candidates.filter((v) => isAvailable(ctx.statuses, v));
  if (ctx.stable === undefined && available.length === 0) {
    return waitFor(
      model,
      "nothing-available",
      `model ${model} has no AVAILABLE version yet; adoption waits for one`,
    );
  }
  const listed = config.policy.kind === "specific" ? config.policy.versions : available;
  const labels = { ...config.labels };
  labels[opts.stableLabel] ??= maxVersion(available) as Version;
  const proposed = modelPolicy([...listed, ...Object.values(labels)], labels);
  const blocked = safetyWait(ctx, proposed, "adopt");
  if (blocked) return blocked;
  const why =
    ctx.stable === undefined
      ? `setting ${opts.stableLabel} on ${labels[opts.stableLabel]}, the newest AVAILABLE version`
      : `keeping ${opts.stableLabel} on ${ctx.stable}`;
  return one(
    {
      kind: "adopt",
      model,
      config: proposed,
      from: config.policy.kind,
      reason: `adopting under specific ${proposed.specific.join(",")}; ${why}`,
    },
    `adopting model ${model}: ${why}`,
  );
}
