/** Operator intents: record pin/unpin/retry, validate and start promote/rollback, finish them. */
import type { Intent, PlanResult, Version } from "./types.js";
import { compareVersions, isAvailable, isFailedEnd, maxVersion, sortVersions } from "./versions.js";
import {
  activePin,
  one,
  newestAdmissible,
  candidateVersion,
  previousStable,
  type Ctx,
} from "./plan-context.js";
import { loadableSettled, verifyStep } from "./plan-target.js";

export function startIntent(ctx: Ctx): PlanResult | undefined {
  const intent = ctx.d.intents[0];
  if (intent === undefined) return undefined;
  const { model } = ctx;
  const refuse = (reason: string): PlanResult =>
    one(
      { kind: "finish-intent", model, intentId: intent.id, outcome: "refused", reason },
      `refusing ${intent.kind}: ${reason}`,
    );
  switch (intent.kind) {
    case "pin": {
      const pin = {
        version: intent.version,
        by: intent.by,
        at: intent.at,
        reason: intent.reason,
        expiresAt: intent.expiresAt,
      };
      return one(
        { kind: "set-pin", model, pin, intentId: intent.id },
        `pinning ${ctx.opts.stableLabel} to ${intent.version}`,
      );
    }
    case "unpin":
      return one({ kind: "set-pin", model, pin: null, intentId: intent.id }, "removing the pin");
    case "retry": {
      const record = ctx.d.verdicts[intent.version];
      if (record === undefined || record.verdict === "promoted" || record.verdict === "candidate") {
        return refuse(`version ${intent.version} is not rejected, skipped or incomplete; nothing to retry`);
      }
      const restoreFrom =
        record.quarantinedAs !== undefined && record.quarantinedAs !== "deleted"
          ? record.quarantinedAs
          : undefined;
      return one(
        { kind: "clear-verdict", model, version: intent.version, intentId: intent.id, restoreFrom },
        `clearing the ${record.verdict} verdict of ${intent.version} so it is considered again`,
      );
    }
    case "promote":
      return ctx.d.promote?.intentId === intent.id ? undefined : startPromote(ctx, intent, refuse);
    case "rollback":
      return ctx.d.rollback?.intentId === intent.id ? undefined : startRollback(ctx, intent, refuse);
  }
}

export function startPromote(
  ctx: Ctx,
  intent: Extract<Intent, { kind: "promote" }>,
  refuse: (reason: string) => PlanResult,
): PlanResult {
  const version =
    intent.version ?? candidateVersion(ctx) ?? newestAdmissible(ctx)?.version ?? newestPending(ctx);
  if (version === undefined) return refuse("no version newer than stable to promote");
  if (version === ctx.stable) {
    return one(
      {
        kind: "finish-intent",
        model: ctx.model,
        intentId: intent.id,
        outcome: "done",
        reason: `${version} is already ${ctx.opts.stableLabel}`,
      },
      "nothing to promote",
    );
  }
  const pin = activePin(ctx);
  if (pin !== undefined && pin.version !== version)
    return refuse(`the model is pinned to ${pin.version}; unpin it first`);
  const unusable = targetRefusal(ctx, version);
  if (unusable !== undefined) return refuse(unusable);
  return one(
    {
      kind: "start-promote",
      model: ctx.model,
      intentId: intent.id,
      version,
      skipGates: intent.skipGates === true,
    },
    `promoting ${version} on operator request${intent.skipGates ? " WITHOUT GATES" : ""}`,
  );
}

/** A never-judged version above stable that a process which has only just looked still sees as pending. */
function newestPending(ctx: Ctx): Version | undefined {
  const pending = [...ctx.disk.values()].filter(
    (v) => v.admission === "pending" && ctx.d.verdicts[v.version] === undefined,
  );
  const newest = maxVersion(pending.map((v) => v.version));
  return newest !== undefined && (ctx.stable === undefined || compareVersions(newest, ctx.stable) > 0)
    ? newest
    : undefined;
}

export function startRollback(
  ctx: Ctx,
  intent: Extract<Intent, { kind: "rollback" }>,
  refuse: (reason: string) => PlanResult,
): PlanResult {
  const stable = ctx.stable;
  if (stable === undefined) return refuse(`model has no ${ctx.opts.stableLabel} version to roll back from`);
  const target = intent.to ?? previousStable(ctx);
  if (target === undefined) return refuse("no previous promoted version to roll back to; name one with --to");
  if (compareVersions(target, stable) >= 0)
    return refuse(`rollback target ${target} is not older than ${ctx.opts.stableLabel} ${stable}`);
  const pin = activePin(ctx);
  if (pin !== undefined) return refuse(`the model is pinned to ${pin.version}; unpin it first`);
  const unusable = targetRefusal(ctx, target);
  if (unusable !== undefined) return refuse(unusable);
  const newer = new Set<Version>([...(ctx.current?.specific ?? []), ...ctx.disk.keys()]);
  const reject = sortVersions(
    [...newer].filter((v) => compareVersions(v, target) > 0 && ctx.d.verdicts[v]?.verdict !== "rejected"),
  );
  return one(
    {
      kind: "start-rollback",
      model: ctx.model,
      intentId: intent.id,
      target,
      reject,
      action: intent.action ?? ctx.opts.rollbackAction,
      by: intent.by,
    },
    `rolling back to ${target}; rejecting ${reject.join(", ")}`,
  );
}

/** Why `version` cannot become stable, or undefined when it can. */
export function targetRefusal(ctx: Ctx, version: Version): string | undefined {
  const verdict = ctx.d.verdicts[version];
  if (verdict?.verdict === "rejected")
    return `version ${version} was rejected (${verdict.reason}); retry it first`;
  const status = ctx.statuses.get(version);
  if (isFailedEnd(status) && ctx.d.progress[version]?.retried !== true) {
    return `TF Serving reports version ${version} failed: ${status?.error_message ?? ""}`;
  }
  const listed = ctx.current?.specific.includes(version) === true && isAvailable(ctx.statuses, version);
  const onDisk = ctx.disk.get(version);
  if (listed) return undefined;
  if (onDisk === undefined) return `version ${version} is not on disk`;
  // Pending: a process that has only just looked (an operator command) has not seen the quiet window pass yet;
  // the target path waits for it to complete.
  if (onDisk.admission === "complete" || onDisk.admission === "pending" || loadableSettled(ctx, version))
    return undefined;
  if (onDisk.admission === "unchecked")
    return `version ${version} is ${verdict?.verdict ?? "settled"} (${verdict?.reason ?? ""}); retry it first so its directory is checked again`;
  return `version ${version} is ${onDisk.admission} on disk`;
}

export function finishIntent(ctx: Ctx): PlanResult | undefined {
  const verification = verifyStep(ctx);
  if (verification !== undefined) return verification;
  const { d, model } = ctx;
  const done = (intentId: string, reason: string): PlanResult =>
    one({ kind: "finish-intent", model, intentId, outcome: "done", reason }, reason);
  if (d.rollback !== undefined && ctx.stable === d.rollback.target)
    return done(d.rollback.intentId, `rolled back to ${d.rollback.target}`);
  if (d.promote !== undefined && ctx.stable === d.promote.version)
    return done(d.promote.intentId, `promoted ${d.promote.version}`);
  return undefined;
}
