/**
 * Which children of a model's base_path are versions, as TF Serving sees them (facts §4), and which of them the
 * daemon may act on.
 *
 * The daemon calls `listVersionDirs(basePath)` on every reconcile of a model (after a watch event, a cron rescan or
 * a re-check timer). Only `versions` go on to the completeness check; `duplicates` and `refused` are reported and
 * never admitted ("reported, not guessed"): for `5` and `005` TF Serving would load the later name in byte order,
 * but which one the operator meant is not ours to guess; a symlink whose target escapes the base path is refused
 * because rollback renames or deletes inside base_path only.
 */
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { RolloutError } from "../errors.js";
import { collectVersionDirs, parseVersionDirName } from "../modelconfig/validate.js";

export interface VersionDir {
  /** Decimal int64, canonical (`00000123` → `123`). */
  version: string;
  /** The child's name as on disk. */
  dirName: string;
  /** basePath/dirName (not resolved). */
  path: string;
  /** The resolved path: inside the base path's real path. */
  realPath: string;
}

export interface DuplicateVersion {
  version: string;
  /** Every child name that parses to this version, in TF Serving's (byte) order. */
  dirNames: string[];
  /** The name TF Serving would load: the last in byte order. */
  loadedByTfServing: string;
  message: string;
  hint: string;
}

export type RefusalReason = "escapes-base-path" | "dangling-symlink" | "not-a-directory";

export interface RefusedVersion {
  version: string;
  dirName: string;
  path: string;
  reason: RefusalReason;
  message: string;
  hint: string;
}

export interface VersionListing {
  basePath: string;
  realBasePath: string;
  /** Admissible version directories, ascending by version. */
  versions: VersionDir[];
  duplicates: DuplicateVersion[];
  refused: RefusedVersion[];
}

export type BasePathProblem = "missing" | "not-a-directory" | "unreadable";

/** The base path itself cannot be listed. */
export class BasePathError extends RolloutError {
  constructor(
    readonly basePath: string,
    readonly problem: BasePathProblem,
    cause: unknown,
  ) {
    super(`cannot list base path ${basePath}: ${problem} (${(cause as Error).message})`, {
      where: basePath,
      hint:
        problem === "missing"
          ? "create the directory or fix base_path in models.config (one missing base path freezes version discovery for every model in TF Serving)"
          : "base_path must be a directory readable by the daemon's user",
      cause,
    });
  }
}

export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isInside(realParent: string, realChild: string): boolean {
  const prefix = realParent.endsWith(sep) ? realParent : realParent + sep;
  return realChild.startsWith(prefix) && realChild.length > prefix.length;
}

/** Whether TF Serving would count this base-path child name as a version (`123.tmp`, `.rejected-5-…` are not). */
export function isVersionDirName(name: string): boolean {
  return parseVersionDirName(name) !== undefined;
}

export async function listVersionDirs(basePath: string): Promise<VersionListing> {
  let realBasePath: string;
  let children: string[];
  try {
    realBasePath = await realpath(basePath);
    children = await readdir(realBasePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "missing" : code === "ENOTDIR" ? "not-a-directory" : "unreadable";
    throw new BasePathError(basePath, problem, error);
  }
  const { versions: byVersion } = collectVersionDirs(children);
  const duplicates = findDuplicates(basePath, children, byVersion);
  const duplicated = new Set(duplicates.map((d) => d.version));
  const versions: VersionDir[] = [];
  const refused: RefusedVersion[] = [];
  for (const [version, dirName] of byVersion) {
    if (duplicated.has(version)) continue;
    const path = join(basePath, dirName);
    const resolved = await resolveVersion(realBasePath, path, version, dirName);
    if (resolved === undefined) continue;
    if ("reason" in resolved) refused.push(resolved);
    else versions.push(resolved);
  }
  versions.sort((a, b) => compareVersions(a.version, b.version));
  refused.sort((a, b) => compareVersions(a.version, b.version));
  return { basePath, realBasePath, versions, duplicates, refused };
}

function findDuplicates(
  basePath: string,
  children: readonly string[],
  byVersion: ReadonlyMap<string, string>,
): DuplicateVersion[] {
  const names = new Map<string, string[]>();
  const sorted = [...children].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const child of sorted) {
    const version = parseVersionDirName(child);
    if (version !== undefined) names.set(version, [...(names.get(version) ?? []), child]);
  }
  const duplicates: DuplicateVersion[] = [];
  for (const [version, dirNames] of names) {
    if (dirNames.length < 2) continue;
    const loaded = byVersion.get(version) ?? dirNames[dirNames.length - 1]!;
    const ignored = dirNames.filter((n) => n !== loaded);
    duplicates.push({
      version,
      dirNames,
      loadedByTfServing: loaded,
      message:
        `duplicate version directories for version ${version}: ${dirNames.map((n) => JSON.stringify(n)).join(", ")}; ` +
        `TF Serving would load ${join(basePath, loaded)} and ignore ${ignored.map((n) => join(basePath, n)).join(", ")}`,
      hint: `keep exactly one directory for version ${version} (rename the others to a non-numeric name such as ${ignored[0]}.old); it is not admitted until then`,
    });
  }
  return duplicates.sort((a, b) => compareVersions(a.version, b.version));
}

async function resolveVersion(
  realBasePath: string,
  path: string,
  version: string,
  dirName: string,
): Promise<VersionDir | RefusedVersion | undefined> {
  const refuse = (reason: RefusalReason, message: string, hint: string): RefusedVersion => ({
    version,
    dirName,
    path,
    reason,
    message,
    hint,
  });
  let realPath: string;
  try {
    realPath = await realpath(path);
  } catch {
    const isLink = await lstat(path).then(
      (s) => s.isSymbolicLink(),
      () => false,
    );
    // Gone between readdir and realpath (renamed away mid-listing): not there, the next scan sees the truth.
    if (!isLink) return undefined;
    return refuse(
      "dangling-symlink",
      `version ${version} is a symlink whose target does not exist: ${path}`,
      "point the symlink at a complete version directory inside the base path, or remove it",
    );
  }
  if (!isInside(realBasePath, realPath)) {
    return refuse(
      "escapes-base-path",
      `version ${version} resolves to ${realPath}, outside the base path ${realBasePath}`,
      "copy or move the version directory into the base path (rollback only ever renames or deletes inside it)",
    );
  }
  const stats = await stat(realPath).catch(() => undefined);
  if (stats === undefined) return undefined;
  if (!stats.isDirectory()) {
    return refuse(
      "not-a-directory",
      `version ${version} is not a directory: ${path}`,
      "a version must be a directory holding saved_model.pb; rename this file to a non-numeric name",
    );
  }
  return { version, dirName, path, realPath };
}
