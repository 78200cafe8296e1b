/** The failure path: take failed versions out of specific, quarantine their directories, reject them. */
import type { PlanResult, Version } from "./types.js";
import { isPlainChildName, modelPolicy, quarantineName, sortVersions } from "./versions.js";
import { safetyWait, one, waitFor, type Ctx } from "./plan-context.js";
import { fleetUnloaded } from "./plan-fleet.js";

export function failurePath(ctx: Ctx): PlanResult | undefined {
  const failing = sortVersions(
    Object.keys(ctx.d.progress).filter((v) => ctx.d.progress[v]?.failure !== undefined),
  ).reverse();
  if (failing.length === 0) return undefined;
  const { model, current } = ctx;
  if (current === undefined) return undefined;
  const rollback = ctx.d.rollback;
  if (ctx.stable !== undefined && failing.includes(ctx.stable)) {
    // An operator rollback first moves stable back (target path); nothing else may take stable out.
    if (rollback !== undefined) return undefined;
    return waitFor(
      model,
      "unsafe-config",
      `${ctx.opts.stableLabel} ${ctx.stable} is marked failed; only an operator rollback can move it`,
    );
  }
  // A rollback verifies that stable resolves to its target before the newer versions are taken out.
  if (rollback !== undefined && ctx.d.verified?.version !== rollback.target && ctx.stable === rollback.target)
    return undefined;
  const listed = failing.filter((v) => current.specific.includes(v));
  if (listed.length > 0) {
    const specific = current.specific.filter((v) => !listed.includes(v));
    const labels = Object.fromEntries(Object.entries(current.labels).filter(([, v]) => !listed.includes(v)));
    const proposed = modelPolicy(specific, labels);
    const blocked = safetyWait(ctx, proposed, "rollback-config");
    if (blocked) return blocked;
    const reason = listed.map((v) => `${v}: ${ctx.d.progress[v]?.failure?.reason ?? ""}`).join("; ");
    return one(
      { kind: "rollback-config", model, config: proposed, removed: listed, reason },
      `removing failed ${listed.join(", ")} from specific (${reason})`,
    );
  }
  const version = failing[0] as Version;
  const progress = ctx.d.progress[version];
  const failure = progress?.failure;
  // Fleet mode: a replica never touches the shared store; the coordinator does, once every replica unloaded.
  const fleet = fleetUnloaded(ctx, version, failure?.reason ?? "failed");
  if (fleet) return fleet;
  const onDisk = ctx.disk.get(version);
  if (onDisk !== undefined && progress?.quarantinedAs === undefined) {
    const refusal = quarantineRefusal(ctx, version);
    if (refusal === undefined && failure !== undefined) {
      const action = ctx.d.rollback?.action ?? ctx.opts.rollbackAction;
      return one(
        {
          kind: "quarantine",
          model,
          version,
          basePath: ctx.config.basePath,
          dirName: onDisk.dirName,
          action,
          newName: quarantineName(version, failure.at),
          reason: failure.reason,
        },
        `${action === "delete" ? "deleting" : "renaming"} rejected version ${version}`,
      );
    }
    return reject(ctx, version, `${failure?.reason ?? "failed"} (directory kept: ${refusal})`);
  }
  return reject(ctx, version, failure?.reason ?? "failed");
}

export function reject(ctx: Ctx, version: Version, reason: string): PlanResult {
  return one(
    { kind: "record-verdict", model: ctx.model, version, verdict: "rejected", reason },
    `rejecting ${version}: ${reason}`,
  );
}

/**
 * Why `version`'s directory must not be quarantined, or undefined when it may be. Automatically only a failed
 * new candidate goes; anything that may have served (promoted, verified, or simply not admitted by the
 * controller, e.g. a version that served under `latest` before adoption) goes only on an explicit operator
 * rollback naming it.
 */
export function quarantineRefusal(ctx: Ctx, version: Version): string | undefined {
  const onDisk = ctx.disk.get(version);
  if (onDisk !== undefined && !isPlainChildName(onDisk.dirName)) {
    return `"${onDisk.dirName}" is not a plain child of base_path`;
  }
  if (version === ctx.stable) return `it is ${ctx.opts.stableLabel}`;
  if (Object.values(ctx.config.labels).includes(version)) return "a label names it";
  if (ctx.current?.specific.includes(version)) return "models.config still lists it";
  const serving = [...ctx.statuses.values()].filter((s) => s.state === "AVAILABLE").map((s) => s.version);
  if (serving.length === 1 && serving[0] === version) return "it is the only serving version";
  const failure = ctx.d.progress[version]?.failure;
  if (failure === undefined) return "it is not marked failed";
  if (failure.allowServing) return undefined;
  if (hasServed(ctx, version)) return "it has served traffic and no operator rollback names it";
  if (ctx.d.verdicts[version]?.verdict !== "candidate")
    return "only failed new candidates are taken off disk automatically";
  return undefined;
}

export function hasServed(ctx: Ctx, version: Version): boolean {
  return ctx.d.verdicts[version]?.verdict === "promoted" || ctx.d.verified?.version === version;
}
