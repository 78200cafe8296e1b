/**
 * An operator retry of a version whose directory was renamed by quarantine (`.rejected-<v>-<ts>`): renames it back
 * to the version number inside base_path so admission sees it again. Never overwrites: when both names exist the
 * step fails and says so. Idempotent: a resumed step that finds its own earlier rename succeeds.
 */
import { lstat, realpath, rename } from "node:fs/promises";
import { join } from "node:path";
import type { StepOutcome } from "../controller/outcome.js";
import type { Step } from "../controller/types.js";
import { isPlainChildName } from "../controller/versions.js";
import { errorText } from "../gate/summary.js";

type ClearVerdictStep = Extract<Step, { kind: "clear-verdict" }>;

const exists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );

export async function applyRestore(
  step: ClearVerdictStep,
  basePath: string | undefined,
): Promise<StepOutcome> {
  const from = step.restoreFrom;
  if (from === undefined) return { ok: true, reason: "recorded" };
  if (!isPlainChildName(from) || !from.startsWith(".rejected-"))
    return { ok: false, reason: `refused: ${from} is not a quarantined child of base_path` };
  if (basePath === undefined)
    return {
      ok: false,
      reason: `model ${step.model} has no base path in models.config; ${from} not restored`,
    };
  let base: string;
  try {
    base = await realpath(basePath);
  } catch (error) {
    return { ok: false, reason: `cannot resolve base path ${basePath}: ${errorText(error)}` };
  }
  const source = join(base, from);
  const target = join(base, step.version);
  const [hasSource, hasTarget] = await Promise.all([exists(source), exists(target)]);
  if (hasTarget && hasSource)
    return {
      ok: false,
      reason: `both ${from} and ${step.version} exist in ${base}; remove one of them and retry again`,
    };
  if (hasTarget) return { ok: true, reason: `${step.version} is already back in ${base}` };
  if (!hasSource)
    return {
      ok: false,
      reason: `${from} is gone from ${base}; copy version ${step.version} back into base_path to roll it out`,
    };
  await rename(source, target);
  return { ok: true, reason: `rejection cleared; restored ${from} to ${step.version} inside ${base}` };
}
