/**
 * Layout of the local state directory (`--state-dir`, default `$STATE_DIRECTORY` under systemd, else
 * /var/lib/tfs-rollout), created with mode 0700:
 *
 *   <state>/models/<escaped model>/journal.jsonl        step journal, append-only JSON lines (journal.ts)
 *   <state>/models/<escaped model>/verdicts.json        verdict per version, replaced atomically (verdict-store.ts)
 *   <state>/models/<escaped model>/intents/*.json       pending CLI intents (intent-queue.ts)
 *   <state>/models/<escaped model>/intents/consumed/    intents already applied, with their outcome
 *   <state>/locks/<name>.lock                           held locks: pid, hostname, command, since (locks.ts)
 *
 * Model names come from models.config and may hold any character, so they are escaped before becoming a path
 * component: letters, digits, "_", "-" and non-leading "." stay, every other byte becomes %XX. The result never
 * contains "/", is never "." or "..", and distinct names give distinct directories.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { RolloutError } from "../errors.js";

/** Room for a suffix such as ".lock" or ".tmp-..." within the usual 255-byte file name limit. */
const MAX_COMPONENT = 200;

export function escapeModelName(model: string): string {
  if (model.length === 0) {
    throw new RolloutError("a model name cannot be empty", {
      hint: "every model in models.config needs a non-empty name",
    });
  }
  if (/\p{Surrogate}/u.test(model)) {
    throw new RolloutError(`model name ${JSON.stringify(model)} is not valid Unicode`, {
      hint: "model names must be valid UTF-8 text, as TF Serving requires",
    });
  }
  let out = "";
  for (const byte of Buffer.from(model, "utf8")) {
    const char = String.fromCharCode(byte);
    const plain = /[A-Za-z0-9_-]/.test(char) || (char === "." && out.length > 0);
    out += plain ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out.length <= MAX_COMPONENT) return out;
  // Too long for a file name: a readable prefix and a digest of the whole name keep it unique.
  const digest = createHash("sha256").update(model, "utf8").digest("hex").slice(0, 32);
  return `${out.slice(0, MAX_COMPONENT - 34)}~~${digest}`;
}

/** Inverse of escapeModelName for names short enough not to be digested; undefined otherwise. */
export function unescapeModelName(component: string): string | undefined {
  if (
    component.includes("~~") ||
    !/^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})*$/.test(component)
  )
    return undefined;
  try {
    return decodeURIComponent(component);
  } catch {
    return undefined;
  }
}

export class StatePaths {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get modelsDir(): string {
    return join(this.root, "models");
  }
  get locksDir(): string {
    return join(this.root, "locks");
  }
  modelDir(model: string): string {
    return join(this.modelsDir, escapeModelName(model));
  }
  journal(model: string): string {
    return join(this.modelDir(model), "journal.jsonl");
  }
  verdicts(model: string): string {
    return join(this.modelDir(model), "verdicts.json");
  }
  intentsDir(model: string): string {
    return join(this.modelDir(model), "intents");
  }
  consumedIntentsDir(model: string): string {
    return join(this.intentsDir(model), "consumed");
  }
  /** `name` is already a safe component (see lockName in locks.ts). */
  lockFile(name: string): string {
    return join(this.locksDir, `${name}.lock`);
  }
}

export const STATE_DIR_MODE = 0o700;

/**
 * Creates `dir` (mode 0700, parents as needed) or checks an existing one, and fails with a clear error when it is
 * not a writable directory.
 */
export async function ensureStateDir(dir: string): Promise<StatePaths> {
  const paths = new StatePaths(dir);
  try {
    await mkdir(paths.root, { recursive: true, mode: STATE_DIR_MODE });
    const info = await stat(paths.root);
    if (!info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    await access(paths.root, constants.W_OK | constants.X_OK);
    await mkdir(paths.modelsDir, { mode: STATE_DIR_MODE }).catch(ignoreExists);
    await mkdir(paths.locksDir, { mode: STATE_DIR_MODE }).catch(ignoreExists);
  } catch (error) {
    throw stateDirError(paths.root, error as NodeJS.ErrnoException);
  }
  return paths;
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== "EEXIST") throw error;
}

export function stateDirError(dir: string, error: NodeJS.ErrnoException): RolloutError {
  const what =
    error.code === "ENOTDIR" || error.code === "EEXIST"
      ? "the state directory path is not a directory"
      : error.code === "EACCES" || error.code === "EPERM" || error.code === "EROFS"
        ? "the state directory is not writable"
        : error.code === "ENOSPC" || error.code === "EDQUOT"
          ? "the state directory's file system is full"
          : "the state directory cannot be used";
  const full = error.code === "ENOSPC" || error.code === "EDQUOT";
  // The message names the directory: step reasons and log lines carry the message only, not `where`.
  const detail = error.message.startsWith(`${error.code ?? "error"}:`)
    ? error.message
    : `${error.code ?? "error"}: ${error.message}`;
  return new RolloutError(`${what}: ${dir} (${detail})`, {
    where: dir,
    hint: full
      ? "free space on its file system; the daemon keeps retrying and carries on once it can write"
      : "give tfs-rollout a writable directory of its own: under systemd set StateDirectory=tfs-rollout in the unit, " +
        "otherwise pass --state-dir DIR (owned by the user running tfs-rollout)",
    cause: error,
  });
}
