/**
 * Applying a config step (adopt, load, promote, trim, rollback-config): under the config-wide lock, re-read
 * models.config, refuse when this model's entry is no longer what plan() saw (an operator edited it: re-plan, never
 * overwrite), edit this model's policy and labels byte-preservingly to exactly the step's policy, check the WHOLE
 * resulting config with checkConfigSafety against TF Serving's status of every model, write atomically (only when
 * the bytes differ: a resumed step finds its own earlier write) and send HandleReloadConfigRequest with the message
 * parsed from exactly the bytes in the file.
 */
import { isAbsolute } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { StepOutcome } from "../controller/outcome.js";
import { checkConfigSafety } from "../controller/config-rules.js";
import type { ConfigStep, ObservedModelConfig, ObservedStatus } from "../controller/types.js";
import { writeModelServerConfig } from "../modelconfig/atomic-write.js";
import { retryWhenChangedUnderneath } from "../modelconfig/file-stamp.js";
import { editModelConfig } from "../modelconfig/edit.js";
import { loadModelServerConfig, parseModelServerConfigBytes } from "../modelconfig/load.js";
import { localBasePathProbe, type BasePathListing } from "../modelconfig/validate.js";
import { errorText } from "../gate/summary.js";
import type { Locks } from "../state/store.js";
import type { ProtoObject, TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { findModel, modelNames, observeStatus, observedModelConfig } from "./observe.js";
import type { ReloadCoalescer } from "./reload-coalescer.js";

export interface ConfigStepDeps {
  modelConfigPath: string;
  grpc: Pick<TfServingGrpcClient, "getModelStatus" | "reloadConfig">;
  locks: Pick<Locks, "withConfigLock">;
  stableLabel: string;
  /** When set, reloads are coalesced across models (reload-coalescer.ts); otherwise each step reloads itself. */
  coalescer?: ReloadCoalescer;
}

export interface ConfigStepContext {
  /** This model's entry as plan() saw it. */
  observed: ObservedModelConfig | undefined;
  /** Versions an operator retry allows back although TF Serving lists them as failed. */
  readmitted: string[];
}

export async function applyConfigStep(
  deps: ConfigStepDeps,
  step: ConfigStep,
  context: ConfigStepContext,
): Promise<StepOutcome> {
  // An operator's edit renamed in after our read (no lock on their side) starts the step over from a fresh read
  // instead of being overwritten (file-stamp.ts).
  const written = await retryWhenChangedUnderneath(() => writeUnderLock(deps, step, context));
  if (!written.ok || deps.coalescer === undefined) return written;
  try {
    await deps.coalescer.reload();
  } catch (error) {
    return { ok: false, written: true, reason: `models.config written, reload failed: ${errorText(error)}` };
  }
  return {
    ok: true,
    reason: `wrote specific [${step.config.specific.join(", ")}] ${describeLabels(step.config.labels)} and reloaded`,
  };
}

async function writeUnderLock(
  deps: ConfigStepDeps,
  step: ConfigStep,
  context: ConfigStepContext,
): Promise<StepOutcome> {
  return deps.locks.withConfigLock(async () => {
    const path = deps.modelConfigPath;
    const fresh = await loadModelServerConfig(path);
    const now = observedModelConfig(findModel(fresh.message, step.model));
    if (!isDeepStrictEqual(now, context.observed)) {
      return {
        ok: false,
        written: false,
        reason: `models.config changed since it was read (model ${step.model}: ${describeEntry(context.observed)} → ${describeEntry(now)}); re-planning instead of overwriting`,
      };
    }
    const text = editModelConfig(fresh.text, path, step.model, {
      policy: { specific: { versions: step.config.specific } },
      labels: step.config.labels,
    });
    const proposed =
      text === fresh.text ? fresh.message : parseModelServerConfigBytes(Buffer.from(text), path).message;
    const names = modelNames(proposed);
    const statuses: Record<string, ObservedStatus> = Object.fromEntries(
      await Promise.all(names.map(async (name) => [name, await observeStatus(deps.grpc, name)] as const)),
    );
    const basePaths: Record<string, BasePathListing> = {};
    const bases = new Set((proposed.model_config_list?.config ?? []).map((entry) => entry.base_path ?? ""));
    await Promise.all(
      [...bases].filter(isAbsolute).map(async (base) => {
        basePaths[base] = await localBasePathProbe(base);
      }),
    );
    const violations = checkConfigSafety(proposed, {
      status: statuses,
      current: fresh.message,
      basePaths,
      stableLabel: deps.stableLabel,
      readmitted: { [step.model]: context.readmitted },
    });
    if (violations.length > 0) {
      return {
        ok: false,
        written: false,
        reason: `not written, TF Serving would refuse or block: ${violations.map((v) => `${v.message} (${v.hint})`).join("; ")}`,
      };
    }
    let message = fresh.message;
    if (text !== fresh.text)
      message = (await writeModelServerConfig(path, text, { unchangedSince: fresh.stamp })).message;
    if (deps.coalescer !== undefined) {
      deps.coalescer.noteWritten({ text, message });
      return { ok: true, reason: "" };
    }
    try {
      await deps.grpc.reloadConfig(message as ProtoObject);
    } catch (error) {
      return {
        ok: false,
        written: true,
        reason: `models.config written, reload failed: ${errorText(error)}`,
      };
    }
    return {
      ok: true,
      reason: `${text === fresh.text ? "models.config already held" : "wrote"} specific [${step.config.specific.join(", ")}] ${describeLabels(step.config.labels)} and reloaded`,
    };
  });
}

function describeLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "no labels" : entries.map(([k, v]) => `${k}=${v}`).join(" ");
}

function describeEntry(entry: ObservedModelConfig | undefined): string {
  if (entry === undefined) return "no entry";
  const p = entry.policy;
  const policy = p.kind === "specific" ? `specific [${p.versions.join(", ")}]` : p.kind;
  return `${policy} ${describeLabels(entry.labels)}`;
}
