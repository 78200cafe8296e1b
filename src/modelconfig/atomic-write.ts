import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { lstat, open, readlink, realpath, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { RolloutError } from "../errors.js";
import { ChangedUnderneathError, currentStampSync, sameStamp, type FileStamp } from "./file-stamp.js";
import { parseModelServerConfigBytes } from "./load.js";
import type { ModelServerConfigObject } from "./validate.js";

/** The points of the write sequence, in order; `onStep` is called after each one. */
export const ATOMIC_WRITE_STEPS = [
  "temp-created",
  "temp-written",
  "temp-synced",
  "renamed",
  "dir-synced",
] as const;
export type AtomicWriteStep = (typeof ATOMIC_WRITE_STEPS)[number];

export interface AtomicWriteOptions {
  /**
   * Test hook, awaited after each step. Throwing before "renamed" aborts the write like a crash would (the temp file
   * is removed and the target is untouched); a test may also kill the process from here.
   */
  onStep?: (step: AtomicWriteStep, tempPath: string) => void | Promise<void>;
  /**
   * The target as it was read (file-stamp.ts): re-checked right before the rename, and when the file was replaced
   * or rewritten since, the write is abandoned with ChangedUnderneathError (target untouched, temp removed).
   */
  unchangedSince?: FileStamp;
}

const MAX_SYMLINK_HOPS = 40;

/**
 * Replaces `target` with `data` so that a reader (TF Serving's file poll) sees either the old or the new bytes,
 * never a mix: temp file beside the target, write, fsync, rename over the target, fsync the directory.
 * The target's mode (and owner, where permitted) is kept. A symlinked target is followed, so the link survives.
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const finalPath = await resolveWritableTarget(target);
  const dir = dirname(finalPath);
  // A dot name with a random suffix: never the configured file name, never reused after a crash.
  const tempPath = join(dir, `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  const existing = await stat(finalPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw writeError(target, "cannot read the current file's mode", error);
  });
  const step = async (name: AtomicWriteStep) => options.onStep?.(name, tempPath);

  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, "wx", 0o666).catch((error: NodeJS.ErrnoException) => {
      throw writeError(target, `cannot create a temporary file in ${dir}`, error);
    });
    if (existing) {
      await handle.chmod(existing.mode & 0o7777);
      await handle.chown(existing.uid, existing.gid).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EPERM") throw error;
      });
    }
    await step("temp-created");
    await handle.writeFile(bytes);
    await step("temp-written");
    await handle.sync();
    await handle.close();
    handle = undefined;
    await step("temp-synced");
    // The check and the rename back to back, synchronously (no other work of this process runs in between): only
    // an edit renamed in during these two system calls can still be overwritten (file-stamp.ts).
    if (
      options.unchangedSince !== undefined &&
      !sameStamp(currentStampSync(finalPath), options.unchangedSince)
    )
      throw new ChangedUnderneathError(target);
    renameSync(tempPath, finalPath);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    if (error instanceof RolloutError) throw error;
    throw writeError(
      target,
      `writing ${target} failed; the file was left unchanged`,
      error as NodeJS.ErrnoException,
    );
  }
  await step("renamed");
  await syncDirectory(dir);
  await step("dir-synced");
}

/**
 * The real file to replace: symlinks are followed (renaming over a link would turn it into a plain file), and a
 * path whose directory does not exist is refused instead of being created somewhere unexpected.
 */
async function resolveWritableTarget(target: string): Promise<string> {
  let current = resolve(target);
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    const info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw writeError(target, `cannot inspect ${current}`, error);
    });
    if (info?.isSymbolicLink()) {
      current = resolve(dirname(current), await readlink(current));
      continue;
    }
    if (info?.isDirectory()) {
      throw new RolloutError(`${current} is a directory, not a config file`, {
        where: target,
        hint: "pass the path of the models.config file itself",
      });
    }
    const dir = await realpath(dirname(current)).catch(() => undefined);
    if (dir === undefined) {
      const via = current === resolve(target) ? "" : ` (the symlink ${target} points there)`;
      throw new RolloutError(
        `refusing to write ${current}: its directory ${dirname(current)} does not exist${via}`,
        {
          where: target,
          hint: "create the directory first, or fix the path / symlink so it names the file TF Serving reads",
        },
      );
    }
    return join(dir, basename(current));
  }
  throw new RolloutError(`too many levels of symbolic links`, {
    where: target,
    hint: "the path is a symlink loop; point it at the real models.config",
  });
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename itself has already happened.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "ENOTSUP") throw error;
  } finally {
    await handle.close();
  }
}

function writeError(target: string, what: string, error: NodeJS.ErrnoException): RolloutError {
  const hint =
    error.code === "EACCES" || error.code === "EPERM"
      ? "the directory holding the config must be writable (the temp file goes beside it so the rename is atomic)"
      : error.code === "ENOSPC"
        ? "free disk space on the config's file system and retry"
        : "check the path and the file system, then retry";
  return new RolloutError(`${what}: ${error.message}`, { where: target, hint, cause: error });
}

export interface WrittenModelServerConfig {
  /** The bytes now in the file, exactly. */
  bytes: Buffer;
  /** The ModelServerConfig parsed from exactly those bytes: what a reload RPC must send (the file wins). */
  message: ModelServerConfigObject;
}

/**
 * Atomically replaces a models.config with `text`. The text is parsed first, so a file TF Serving could not parse
 * is never written (TextFormatError, nothing touched).
 */
export async function writeModelServerConfig(
  path: string,
  text: string,
  options: AtomicWriteOptions = {},
): Promise<WrittenModelServerConfig> {
  const bytes = Buffer.from(text, "utf8");
  const { message } = parseModelServerConfigBytes(bytes, path);
  await writeFileAtomic(path, bytes, options);
  return { bytes, message };
}
