/**
 * Taking a rejected version off disk: rename its directory inside base_path to a name TF Serving ignores
 * (`.rejected-<v>-<ts>`), or delete it. Symlinks are resolved first and nothing outside the real base path is ever
 * touched (a symlinked version loses its link, never its target). Re-checked against models.config as it is now:
 * the version `stable` names, or one still listed in `specific`, is never touched. Idempotent: a resumed step that
 * finds its own earlier rename (or nothing left to delete) succeeds.
 */
import { lstat, realpath, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { StepOutcome } from "../controller/outcome.js";
import type { Step } from "../controller/types.js";
import { isPlainChildName } from "../controller/versions.js";
import { errorText } from "../gate/summary.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import { findModel, observedModelConfig } from "./observe.js";

type QuarantineStep = Extract<Step, { kind: "quarantine" }>;

export async function applyQuarantine(
  step: QuarantineStep,
  modelConfigPath: string,
  stableLabel: string,
): Promise<StepOutcome> {
  if (!isPlainChildName(step.dirName) || (step.action === "rename" && !isPlainChildName(step.newName)))
    return {
      ok: false,
      reason: `refused: ${step.dirName} → ${step.newName} is not a plain child of base_path`,
    };
  const refusal = await servingRefusal(step.model, step.version, modelConfigPath, stableLabel);
  if (refusal !== undefined) return { ok: false, reason: `refused: ${refusal}` };

  let base: string;
  try {
    base = await realpath(step.basePath);
  } catch (error) {
    return { ok: false, reason: `cannot resolve base path ${step.basePath}: ${errorText(error)}` };
  }
  const source = join(base, step.dirName);
  const found = await lstat(source).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (step.action === "rename") {
    const target = join(base, step.newName);
    if (found === undefined) {
      const renamed = await lstat(target).then(
        () => true,
        () => false,
      );
      return {
        ok: true,
        reason: renamed ? `already renamed to ${step.newName}` : `${step.dirName} is already gone`,
      };
    }
    await rename(source, target);
    return { ok: true, reason: `renamed ${step.dirName} to ${step.newName} inside ${base}` };
  }
  if (found === undefined) return { ok: true, reason: `${step.dirName} is already gone` };
  if (found.isSymbolicLink()) await unlink(source);
  else await rm(source, { recursive: true, force: true });
  return { ok: true, reason: `deleted ${step.dirName} from ${base}` };
}

/**
 * Why models.config as it is NOW forbids touching `version`'s directory (stable names it, specific lists it, or
 * the model is under latest/all, which may serve anything), or undefined. Also used by retention.
 */
export async function servingRefusal(
  model: string,
  version: string,
  modelConfigPath: string,
  stableLabel: string,
): Promise<string | undefined> {
  const entry = observedModelConfig(findModel((await loadModelServerConfig(modelConfigPath)).message, model));
  if (entry?.labels[stableLabel] === version) return `${version} is what ${stableLabel} names`;
  if (entry?.policy.kind === "specific" && entry.policy.versions.includes(version))
    return `${version} is still listed in specific`;
  if (entry !== undefined && entry.policy.kind !== "specific")
    return `model ${model} is under ${entry.policy.kind}, which may serve it`;
  return undefined;
}
