import { open, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { RolloutError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { parseTextFormat } from "../textformat/parse.js";
import { stampOf, type FileStamp } from "./file-stamp.js";
import type { ModelServerConfigObject } from "./validate.js";

export interface LoadedModelServerConfig {
  /** Absolute path of the file read. */
  path: string;
  /** The file's text, exactly as read. */
  text: string;
  /** The ModelServerConfig in canonical plain-object form. */
  message: ModelServerConfigObject;
  /** Identity of exactly the file these bytes came from: a writer passes it as `unchangedSince`. */
  stamp: FileStamp;
}

/**
 * Reads and parses a models.config file (protobuf text format of tensorflow.serving.ModelServerConfig).
 * Throws RolloutError (missing/unreadable, with path and hint) or TextFormatError (`FILE:LINE:COL: message`).
 * `displayName` is what error messages call the file (default: `path` as given).
 */
export async function loadModelServerConfig(
  path: string,
  options: { cwd?: string; displayName?: string } = {},
): Promise<LoadedModelServerConfig> {
  const absolute = resolve(options.cwd ?? process.cwd(), path);
  const displayName = options.displayName ?? path;
  const fail = (error: NodeJS.ErrnoException) => {
    throw readError(displayName, absolute, error);
  };
  // One open file for both: the stamp is the identity of the very bytes read, even if the path is replaced now.
  const handle = await open(absolute, "r").catch(fail);
  let bytes: Buffer;
  let stamp: FileStamp;
  try {
    stamp = stampOf(await handle.stat({ bigint: true }));
    bytes = await handle.readFile().catch(fail);
  } finally {
    await handle.close();
  }
  const { text, message } = parseModelServerConfigBytes(bytes, displayName);
  return { path: absolute, text, message, stamp };
}

/**
 * The last few parses, by exact text: the daemon re-reads models.config on every pass of every model, and with a
 * thousand models re-parsing unchanged bytes dominated its CPU. Callers get a deep copy, so nothing they do to the
 * message can reach the cache.
 */
const recentParses: { text: string; fileName: string; message: ModelServerConfigObject }[] = [];
const RECENT_PARSES = 4;

/**
 * Like loadModelServerConfig, but the message is shared and deeply frozen (no copy): for the hot read-only paths
 * (every reconcile pass of every model reads the whole file).
 */
export async function loadModelServerConfigShared(
  path: string,
): Promise<{ path: string; text: string; message: Readonly<ModelServerConfigObject> }> {
  const absolute = resolve(path);
  const bytes = await readFile(absolute).catch((error: NodeJS.ErrnoException) => {
    throw readError(path, absolute, error);
  });
  const { text, message } = parseUncached(bytes, path);
  return { path: absolute, text, message };
}

/** Decodes and parses exactly these bytes, as TF Serving would read them from the file. */
export function parseModelServerConfigBytes(
  bytes: Uint8Array,
  fileName: string,
): { text: string; message: ModelServerConfigObject } {
  const { text, message } = parseUncached(bytes, fileName);
  return { text, message: structuredClone(message) };
}

function parseUncached(
  bytes: Uint8Array,
  fileName: string,
): { text: string; message: ModelServerConfigObject } {
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, so it is reported like TF Serving's parser would instead of vanishing.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new RolloutError("the file is not valid UTF-8 text", {
      where: fileName,
      hint: "a models.config is protobuf text format; re-save it as UTF-8",
      cause: error,
    });
  }
  const hit = recentParses.find((p) => p.text === text && p.fileName === fileName);
  if (hit !== undefined) return { text, message: hit.message };
  const message = parseTextFormat(
    text,
    messageType("tensorflow.serving.ModelServerConfig"),
    fileName,
  ) as ModelServerConfigObject;
  deepFreeze(message);
  recentParses.unshift({ text, fileName, message });
  recentParses.length = Math.min(recentParses.length, RECENT_PARSES);
  return { text, message };
}

function readError(displayName: string, absolute: string, error: NodeJS.ErrnoException): RolloutError {
  const resolved = displayName === absolute ? "" : ` (${absolute})`;
  switch (error.code) {
    case "ENOENT":
      return new RolloutError(`no such file${resolved}`, {
        where: displayName,
        hint: "pass the path of the models.config given to TF Serving's --model_config_file",
        cause: error,
      });
    case "EISDIR":
      return new RolloutError(`is a directory${resolved}, not a models.config file`, {
        where: displayName,
        hint: "pass the config file itself, e.g. /models/models.config",
        cause: error,
      });
    case "EACCES":
    case "EPERM":
      return new RolloutError(`permission denied${resolved}`, {
        where: displayName,
        hint: "run as a user that can read the file (TF Serving's own user can)",
        cause: error,
      });
    default:
      return new RolloutError(`cannot read${resolved}: ${error.message}`, {
        where: displayName,
        hint: "check the path and the file system",
        cause: error,
      });
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
