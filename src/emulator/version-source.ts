// TF Serving's FileSystemStoragePathSource (facts §4): which versions of each model are desired after one poll.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { collectVersionDirs } from "../modelconfig/validate.js";
import type { ModelConfigObject } from "../modelconfig/validate.js";
import { ServingError } from "./serving-api.js";

/** Desired version → its directory. */
export type DesiredVersions = Map<string, string>;

export interface SourceLog {
  warn(message: string): void;
}

function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Lists one model's base path and applies its version policy. A missing base path throws TF's INVALID_ARGUMENT,
 * which the caller treats as a failure of the whole poll cycle.
 */
export async function desiredVersions(model: ModelConfigObject, log: SourceLog): Promise<DesiredVersions> {
  const name = model.name ?? "";
  const basePath = model.base_path ?? "";
  let children: string[];
  try {
    children = await readdir(basePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const status = code === "ENOENT" || code === "ENOTDIR" ? "NOT_FOUND" : "UNKNOWN";
    throw new ServingError(
      "INVALID_ARGUMENT",
      `Could not find base path ${basePath} for servable ${name} with error ${status}: ${(error as Error).message}`,
    );
  }
  const { versions, duplicates } = collectVersionDirs(children);
  for (const d of duplicates)
    log.warn(
      `Duplicate version directories detected. Version ${d.version} will be loaded from ${join(basePath, d.kept)}, ` +
        `${join(basePath, d.ignored)} will be ignored.`,
    );
  const found = [...versions.keys()].sort(compareVersions);
  const dirOf = (v: string): string => join(basePath, versions.get(v) ?? v);
  const policy = model.model_version_policy ?? {};
  const result: DesiredVersions = new Map();
  if (found.length === 0) {
    log.warn(
      `No versions of servable ${name} found under base path ${basePath}. ` +
        "Did you forget to name your leaf directory as a number (eg. '/1/')?",
    );
    return result;
  }
  if (policy.specific) {
    const wanted = policy.specific.versions ?? [];
    if (wanted.length === 0) log.warn(`No specific versions requested for servable ${name}.`);
    for (const raw of wanted) {
      const v = BigInt(raw).toString();
      if (versions.has(v)) result.set(v, dirOf(v));
      else
        log.warn(
          `Version ${v} of servable ${name}, which was requested to be served as a 'specific' version in the ` +
            "servable's version policy, was not found in the file system",
        );
    }
  } else if (policy.all) {
    for (const v of found) result.set(v, dirOf(v));
  } else {
    const n = Math.max(Number(policy.latest?.num_versions ?? 1), 1);
    for (const v of found.slice(-n)) result.set(v, dirOf(v));
  }
  return result;
}

/** One poll cycle: every model's desired versions, or the first base-path error (which aborts the whole cycle). */
export async function pollAll(
  models: readonly ModelConfigObject[],
  log: SourceLog,
): Promise<Map<string, DesiredVersions>> {
  const result = new Map<string, DesiredVersions>();
  for (const model of models) result.set(model.name ?? "", await desiredVersions(model, log));
  return result;
}
