/**
 * Safety rules for every models.config the controller writes (issue 5 "State, journal and crash safety").
 *
 * `checkConfigSafety` is what the executor runs, under the config-wide lock, on the WHOLE proposed config right
 * before every write and reload; a non-empty result means the write is not made and the reload is not sent. It
 * judges the config as TF Serving would with `--allow_version_labels_for_unavailable_models` off (every label names
 * a version AVAILABLE now), plus the controller's own invariants. `checkModelPolicy` is the per-model part; plan()
 * runs it on every config step it proposes, so a step that would be refused is never planned.
 */
import type { VersionStatus } from "../tfserving/model-status.js";
import {
  validateRules,
  type BasePathListing,
  type ModelConfigObject,
  type ModelServerConfigObject,
} from "../modelconfig/validate.js";
import type { ModelPolicy, ObservedModelConfig, ObservedStatus, Version } from "./types.js";
import { collectVersionDirs } from "../modelconfig/validate.js";
import { isAvailable, isFailedEnd, statusMap } from "./versions.js";

export interface Violation {
  code: string;
  model?: string;
  message: string;
  hint: string;
}

export interface ModelPolicyContext {
  model: string;
  /** The model's entry as it is in models.config now (before the write). */
  before: Pick<ObservedModelConfig, "policy" | "labels">;
  status: ObservedStatus;
  stableLabel: string;
  /** Versions an operator retry allows back although TF Serving lists them as failed. */
  readmitted?: readonly Version[];
}

/** Per-model invariants of a proposed `specific` policy + labels against the current entry and TF's status. */
export function checkModelPolicy(proposed: ModelPolicy, context: ModelPolicyContext): Violation[] {
  const { model, before, stableLabel } = context;
  const statuses = statusMap(context.status);
  if (statuses === undefined) {
    return [
      violation(
        model,
        "unreachable",
        "TF Serving is unreachable, so no label can be checked against it",
        "wait for TF Serving to answer GetModelStatus",
      ),
    ];
  }
  const out: Violation[] = [];
  if (proposed.specific.length === 0) {
    out.push(
      violation(
        model,
        "empty-specific",
        `the specific list of model ${model} would be empty, which unloads every version`,
        "keep at least the stable version listed",
      ),
    );
  }
  const specific = new Set(proposed.specific);
  for (const [label, version] of Object.entries(proposed.labels)) {
    if (!isAvailable(statuses, version)) {
      out.push(
        violation(
          model,
          "label-unavailable",
          `Request to assign label to version ${version} of model ${model}, which is not currently available for inference`,
          `label "${label}" may only name an AVAILABLE version: load it first, then move the label in a second reload`,
        ),
      );
    }
    if (!specific.has(version)) {
      out.push(
        violation(
          model,
          "label-outside-specific",
          `label "${label}" names version ${version}, which the specific list does not keep loaded`,
          `add ${version} to the specific list or move the label`,
        ),
      );
    }
  }
  if (before.labels[stableLabel] !== undefined && proposed.labels[stableLabel] === undefined) {
    out.push(
      violation(
        model,
        "stable-removed",
        `the "${stableLabel}" label of model ${model} would be removed`,
        `move "${stableLabel}" instead of removing it`,
      ),
    );
  }
  const added = addedVersions(proposed, before, statuses);
  if (added.length > 0 && !sameLabels(proposed.labels, before.labels)) {
    out.push(
      violation(
        model,
        "load-and-label",
        `one reload would both load version(s) ${added.join(", ")} and change labels of model ${model}`,
        "load in one reload, wait for AVAILABLE, then move labels in a second reload",
      ),
    );
  }
  for (const version of added) {
    const status = statuses.get(version);
    if (status?.state === "UNLOADING") {
      out.push(
        violation(
          model,
          "readd-unloading",
          `version ${version} of model ${model} is still UNLOADING; TF Serving would park a request to load it again`,
          "wait until it has unloaded (END)",
        ),
      );
    } else if (isFailedEnd(status) && !(context.readmitted ?? []).includes(version)) {
      out.push(
        violation(
          model,
          "readd-failed",
          `version ${version} of model ${model} failed to load (${status?.error_message ?? ""}); TF Serving never retries a failed number`,
          "publish the fixed model under a new version number, or retry it explicitly",
        ),
      );
    }
  }
  return out;
}

/** Versions the proposal asks TF Serving to load that it does not already aspire to (or serve). */
function addedVersions(
  proposed: ModelPolicy,
  before: ModelPolicyContext["before"],
  statuses: Map<Version, VersionStatus>,
): Version[] {
  const already =
    before.policy.kind === "specific"
      ? new Set(before.policy.versions)
      : new Set([...statuses.values()].filter((s) => s.state === "AVAILABLE").map((s) => s.version));
  return proposed.specific.filter((v) => !already.has(v));
}

function sameLabels(a: Record<string, Version>, b: Record<string, Version>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

export interface ConfigSafetyObservation {
  /** GetModelStatus per model name. */
  status: Record<string, ObservedStatus>;
  /** The config as it is now (file content); enables the per-model transition rules. */
  current?: ModelServerConfigObject;
  /** Listing of each local base path (from `localBasePathProbe`); a path not listed here is not checked. */
  basePaths?: Record<string, BasePathListing>;
  stableLabel?: string;
  readmitted?: Record<string, readonly Version[]>;
}

/** Every rule, for the whole proposed config. Empty means safe to write and reload. */
export function checkConfigSafety(
  proposed: ModelServerConfigObject,
  observed: ConfigSafetyObservation,
): Violation[] {
  const models = proposed.model_config_list?.config ?? [];
  const availableVersions = Object.fromEntries(
    models.map((m) => {
      const status = observed.status[m.name ?? ""];
      const available =
        status?.kind === "reachable" ? status.versions.filter((s) => s.state === "AVAILABLE") : [];
      return [m.name ?? "", available.map((s) => s.version)];
    }),
  );
  const out: Violation[] = validateRules(proposed, { availableVersions })
    .filter(
      (f) => f.severity === "error" || f.code === "empty-specific" || f.code === "label-outside-specific",
    )
    .map((f) => ({ code: f.code, model: f.model, message: f.message, hint: f.hint }));
  for (const model of models) {
    const name = model.name ?? "";
    const listing = observed.basePaths?.[model.base_path ?? ""];
    if (listing !== undefined) out.push(...checkBasePathListing(name, model.base_path ?? "", listing));
    const before = (observed.current?.model_config_list?.config ?? []).find((m) => m.name === name);
    const proposedPolicy = specificPolicy(model);
    if (before === undefined || proposedPolicy === undefined) continue;
    const status = observed.status[name] ?? { kind: "unreachable", reason: "no status observed" };
    const transition = checkModelPolicy(proposedPolicy, {
      model: name,
      before: { policy: observedPolicyOf(before), labels: before.version_labels ?? {} },
      status,
      stableLabel: observed.stableLabel ?? "stable",
      readmitted: observed.readmitted?.[name],
    });
    // Label availability and empty lists are already reported by validateRules.
    out.push(
      ...transition.filter(
        (v) => !["label-unavailable", "empty-specific", "label-outside-specific"].includes(v.code),
      ),
    );
  }
  return out;
}

function checkBasePathListing(model: string, basePath: string, listing: BasePathListing): Violation[] {
  if (listing.kind === "missing") {
    return [
      violation(
        model,
        "missing-base-path",
        `Could not find base path ${basePath} for servable ${model}`,
        "one missing base path freezes version discovery for every model; restore the directory before any reload",
      ),
    ];
  }
  if (listing.kind === "error") {
    return [
      violation(
        model,
        "unreadable-base-path",
        `cannot list base path ${basePath}: ${listing.message}`,
        "fix the directory's permissions",
      ),
    ];
  }
  if (collectVersionDirs(listing.names).versions.size === 0) {
    return [
      violation(
        model,
        "no-version-dirs",
        `No versions of servable ${model} found under base path ${basePath}.`,
        "a reload adding this model would block forever; put a numeric version directory in it first",
      ),
    ];
  }
  return [];
}

function specificPolicy(model: ModelConfigObject): ModelPolicy | undefined {
  const specific = model.model_version_policy?.specific;
  if (specific === undefined) return undefined;
  return { specific: specific.versions ?? [], labels: model.version_labels ?? {} };
}

function observedPolicyOf(model: ModelConfigObject): ObservedModelConfig["policy"] {
  const policy = model.model_version_policy;
  if (policy?.specific) return { kind: "specific", versions: policy.specific.versions ?? [] };
  if (policy?.all) return { kind: "all" };
  return { kind: "latest", numVersions: Math.max(policy?.latest?.num_versions ?? 1, 1) };
}

function violation(model: string, code: string, message: string, hint: string): Violation {
  return { code, model, message, hint };
}
