/**
 * Is one version directory completely copied? A structured verdict, never an exception for a bad directory:
 *
 * - `saved_model.pb` (else `saved_model.pbtxt`) parses with the project's reader and holds a meta graph whose tag
 *   set is exactly the serving tags (default {serve}), as TF's loader requires;
 * - `variables/`, when present, holds a non-empty `variables.index` that ends with the table footer magic (a
 *   truncated copy does not) and every data shard `variables.data-0000K-of-0000N`, K in 0..N-1, N read from the
 *   names; a version with no `variables/` at all is complete here (some models have none; the smoke gate catches
 *   a half-copied one that lost it);
 * - `assets.extra/tf_serving_warmup_requests`, when present, reads cleanly (a copy in progress truncates it).
 *
 * The fingerprint is taken FIRST, so a tree that changes during the checks shows a new digest next time and the
 * quiet window starts over (quiet-window.ts). The daemon calls this for each pending version on every scan.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { RolloutError } from "../errors.js";
import { readSavedModel, SAVED_MODEL_PB, SAVED_MODEL_PBTXT } from "../savedmodel/reader.js";
import { readWarmupFile, WARMUP_FILE } from "../warmup/reader.js";
import { entryOf, fingerprintTree, type TreeFingerprint } from "./fingerprint.js";

export type IncompleteCode =
  | "saved-model-missing"
  | "saved-model-unreadable"
  | "no-serving-meta-graph"
  | "variables-not-a-directory"
  | "variables-index-missing"
  | "variables-index-empty"
  | "variables-index-truncated"
  | "variables-data-missing"
  | "variables-shard-count-mismatch"
  | "variables-shard-missing"
  | "warmup-unreadable";

export interface IncompleteReason {
  code: IncompleteCode;
  /** The file or directory concerned. */
  path: string;
  message: string;
}

export interface CompletenessVerdict {
  complete: boolean;
  reasons: IncompleteReason[];
  fingerprint: TreeFingerprint;
  /** Whether the marker file exists (only when a marker file name was given). */
  markerPresent?: boolean;
}

export interface CompletenessOptions {
  /** The serving tag set (TF Serving's --saved_model_tags); default ["serve"]. */
  tags?: readonly string[];
  /** Marker file, relative to the version directory (e.g. `_SUCCESS`), reported as `markerPresent`. */
  markerFile?: string;
}

const VARIABLES_DIR = "variables";
const INDEX_FILE = "variables/variables.index";
const DATA_SHARD = /^variables\/variables\.data-(\d{5,})-of-(\d{5,})$/;
/** TF's table format (tensorflow/core/lib/io/format.h, as LevelDB): a 48-byte footer ending in this LE magic. */
const TABLE_MAGIC = Buffer.from("57fb808b247547db", "hex");
const TABLE_FOOTER_BYTES = 48;
const MAX_SHARDS = 1_000_000;
const LISTED_MISSING = 5;

export async function checkCompleteness(
  dir: string,
  options: CompletenessOptions = {},
): Promise<CompletenessVerdict> {
  const fingerprint = await fingerprintTree(dir);
  const reasons = [
    ...checkSavedModel(dir, fingerprint, options.tags),
    ...(await checkVariables(dir, fingerprint)),
    ...checkWarmup(dir, fingerprint),
  ];
  const verdict: CompletenessVerdict = { complete: reasons.length === 0, reasons, fingerprint };
  if (options.markerFile !== undefined)
    verdict.markerPresent = entryOf(fingerprint, options.markerFile) !== undefined;
  return verdict;
}

function checkSavedModel(
  dir: string,
  fingerprint: TreeFingerprint,
  tags: readonly string[] | undefined,
): IncompleteReason[] {
  if (!entryOf(fingerprint, SAVED_MODEL_PB) && !entryOf(fingerprint, SAVED_MODEL_PBTXT)) {
    return [
      {
        code: "saved-model-missing",
        path: join(dir, SAVED_MODEL_PB),
        message: `no ${SAVED_MODEL_PB} or ${SAVED_MODEL_PBTXT} yet`,
      },
    ];
  }
  try {
    readSavedModel(dir, tags === undefined ? {} : { tags });
    return [];
  } catch (error) {
    if (!(error instanceof RolloutError)) throw error;
    const noMetaGraph = error.message.startsWith("Could not find meta graph def matching supplied tags");
    return [
      {
        code: noMetaGraph ? "no-serving-meta-graph" : "saved-model-unreadable",
        path: error.where ?? join(dir, SAVED_MODEL_PB),
        message: error.message,
      },
    ];
  }
}

async function checkVariables(dir: string, fingerprint: TreeFingerprint): Promise<IncompleteReason[]> {
  const variablesDir = join(dir, VARIABLES_DIR);
  if (entryOf(fingerprint, VARIABLES_DIR) !== undefined) {
    return [{ code: "variables-not-a-directory", path: variablesDir, message: "variables is a file" }];
  }
  if (entryOf(fingerprint, `${VARIABLES_DIR}/`) === undefined) return [];
  const reasons: IncompleteReason[] = [];
  const index = entryOf(fingerprint, INDEX_FILE);
  const indexPath = join(dir, INDEX_FILE);
  if (index === undefined) {
    reasons.push({
      code: "variables-index-missing",
      path: indexPath,
      message: "variables/ has no variables.index",
    });
  } else if (index.size === 0) {
    reasons.push({
      code: "variables-index-empty",
      path: indexPath,
      message: "variables.index is empty (0 bytes)",
    });
  } else if (!(await endsWithTableMagic(indexPath, index.size))) {
    reasons.push({
      code: "variables-index-truncated",
      path: indexPath,
      message: `variables.index (${index.size} bytes) does not end with the table footer magic: truncated or still being written`,
    });
  }
  return [...reasons, ...checkShards(variablesDir, fingerprint)];
}

function checkShards(variablesDir: string, fingerprint: TreeFingerprint): IncompleteReason[] {
  const present = new Set<number>();
  const counts = new Set<number>();
  for (const entry of fingerprint.entries) {
    const match = DATA_SHARD.exec(entry.path);
    if (!match) continue;
    present.add(Number(match[1]));
    counts.add(Number(match[2]));
  }
  if (counts.size === 0) {
    return [
      {
        code: "variables-data-missing",
        path: variablesDir,
        message: "variables/ has no variables.data-NNNNN-of-NNNNN shard",
      },
    ];
  }
  if (counts.size > 1) {
    return [
      {
        code: "variables-shard-count-mismatch",
        path: variablesDir,
        message: `data shards disagree on their count: -of-${[...counts].sort((a, b) => a - b).join(", -of-")}`,
      },
    ];
  }
  const total = [...counts][0]!;
  if (total < 1 || total > MAX_SHARDS) {
    return [
      {
        code: "variables-shard-count-mismatch",
        path: variablesDir,
        message: `implausible data shard count ${total}`,
      },
    ];
  }
  const missing: string[] = [];
  for (let k = 0; k < total; k++) if (!present.has(k)) missing.push(shardName(k, total));
  if (missing.length === 0) return [];
  const listed = missing.slice(0, LISTED_MISSING).join(", ");
  const more = missing.length > LISTED_MISSING ? ` and ${missing.length - LISTED_MISSING} more` : "";
  return [
    {
      code: "variables-shard-missing",
      path: join(variablesDir, missing[0]!),
      message: `${missing.length} of ${total} data shards missing: ${listed}${more}`,
    },
  ];
}

/** TF's name: `%s.data-%05d-of-%05d`. */
export function shardName(k: number, total: number): string {
  return `variables.data-${String(k).padStart(5, "0")}-of-${String(total).padStart(5, "0")}`;
}

async function endsWithTableMagic(path: string, size: number): Promise<boolean> {
  if (size < TABLE_FOOTER_BYTES) return false;
  const handle = await open(path, "r").catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const tail = Buffer.alloc(TABLE_MAGIC.length);
    const { bytesRead } = await handle.read(tail, 0, tail.length, size - TABLE_MAGIC.length);
    return bytesRead === tail.length && tail.equals(TABLE_MAGIC);
  } finally {
    await handle.close();
  }
}

function checkWarmup(dir: string, fingerprint: TreeFingerprint): IncompleteReason[] {
  if (entryOf(fingerprint, WARMUP_FILE.split("\\").join("/")) === undefined) return [];
  try {
    readWarmupFile(join(dir, WARMUP_FILE));
    return [];
  } catch (error) {
    if (!(error instanceof RolloutError)) throw error;
    return [
      { code: "warmup-unreadable", path: error.where ?? join(dir, WARMUP_FILE), message: error.message },
    ];
  }
}
