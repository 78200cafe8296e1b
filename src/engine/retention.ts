/**
 * Applying a `reclaim` step (retention): delete each listed directory inside the model's real base path and count
 * the bytes freed. Re-checked at the moment of deletion, not only when planned: a plain child name only, a
 * `.rejected-*` name for rejected entries, and for version directories models.config as it is now (never what
 * `stable` or any label names, never a listed version, never under latest/all; quarantine.ts's servingRefusal).
 * Symlinks are never followed: a symlinked entry loses its link, never its target. A missing directory counts
 * as already reclaimed (a resumed or repeated step succeeds).
 */
import { lstat, readdir, realpath, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ReclaimEntry, Step } from "../controller/types.js";
import { isPlainChildName } from "../controller/versions.js";
import { REJECTED_PREFIX } from "../controller/plan-retention.js";
import { errorText } from "../gate/summary.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import type { StepResult } from "./executor.js";
import { findModel, observedModelConfig } from "./observe.js";
import { servingRefusal } from "./quarantine.js";

type ReclaimStep = Extract<Step, { kind: "reclaim" }>;

export interface ReclaimedEntry {
  dir: string;
  version: string;
  what: ReclaimEntry["what"];
  bytes: number;
}

export async function applyReclaim(
  step: ReclaimStep,
  modelConfigPath: string,
  stableLabel: string,
): Promise<StepResult> {
  if (step.entries.length === 0) return { outcome: { ok: true, reason: "retention: nothing to reclaim" } };
  let base: string;
  try {
    base = await realpath(step.basePath);
  } catch (error) {
    return {
      outcome: { ok: false, reason: `cannot resolve base path ${step.basePath}: ${errorText(error)}` },
    };
  }
  const reclaimed: ReclaimedEntry[] = [];
  const refused: { dir: string; reason: string }[] = [];
  for (const entry of step.entries) {
    try {
      const refusal = await entryRefusal(step.model, entry, modelConfigPath, stableLabel);
      if (refusal !== undefined) {
        refused.push({ dir: entry.dirName, reason: refusal });
        continue;
      }
      const bytes = await removeEntry(join(base, entry.dirName));
      if (bytes !== undefined)
        reclaimed.push({ dir: entry.dirName, version: entry.version, what: entry.what, bytes });
    } catch (error) {
      refused.push({ dir: entry.dirName, reason: errorText(error) });
    }
  }
  const bytes = reclaimed.reduce((sum, e) => sum + e.bytes, 0);
  const parts = [
    `reclaimed ${reclaimed.length} director${reclaimed.length === 1 ? "y" : "ies"}, ${bytes} bytes` +
      (reclaimed.length ? ` (${reclaimed.map((e) => e.dir).join(", ")})` : ""),
    ...refused.map((r) => `kept ${r.dir}: ${r.reason}`),
  ];
  return {
    outcome: { ok: refused.length === 0, reason: parts.join("; ") },
    details: { reclaimed, bytes_reclaimed: bytes, ...(refused.length ? { refused } : {}) },
  };
}

async function entryRefusal(
  model: string,
  entry: ReclaimEntry,
  modelConfigPath: string,
  stableLabel: string,
): Promise<string | undefined> {
  if (!isPlainChildName(entry.dirName)) return `"${entry.dirName}" is not a plain child of base_path`;
  if (entry.what === "rejected")
    return entry.dirName.startsWith(REJECTED_PREFIX) ? undefined : `not a ${REJECTED_PREFIX}* directory`;
  const refusal = await servingRefusal(model, entry.version, modelConfigPath, stableLabel);
  if (refusal !== undefined) return refusal;
  const config = observedModelConfig(
    findModel((await loadModelServerConfig(modelConfigPath)).message, model),
  );
  const label = Object.entries(config?.labels ?? {}).find(([, v]) => v === entry.version)?.[0];
  return label === undefined ? undefined : `label ${label} names ${entry.version}`;
}

/** Deletes the entry (a symlink: only the link); the bytes it held, or undefined when it was already gone. */
async function removeEntry(path: string): Promise<number | undefined> {
  const found = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (found === undefined) return undefined;
  if (found.isSymbolicLink()) {
    await unlink(path);
    return 0;
  }
  const bytes = await treeBytes(path);
  await rm(path, { recursive: true, force: true });
  return bytes;
}

/** Bytes of the regular files under `path`, symlinks not followed. */
export async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.isFile() ? info.size : 0;
  let total = 0;
  for (const child of await readdir(path)) total += await treeBytes(join(path, child));
  return total;
}
