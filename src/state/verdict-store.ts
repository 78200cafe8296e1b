/**
 * The local VerdictStore: `<state>/models/<model>/verdicts.json`, `{ "model": ..., "verdicts": { "<version>": record } }`,
 * replaced atomically on every change under the short per-model state lock, so concurrent writers from the daemon
 * and the CLI never lose each other's verdicts.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { RolloutError } from "../errors.js";
import { writeFileAtomic } from "../modelconfig/atomic-write.js";
import { stateLockName } from "./journal.js";
import type { FileLocks } from "./locks.js";
import { STATE_DIR_MODE, stateDirError, type StatePaths } from "./paths.js";
import { asJson, assertActor, assertNonEmpty, isActor } from "./records.js";
import { VERDICTS, type VerdictRecord, type VerdictStore } from "./store.js";

interface VerdictFile {
  model: string;
  verdicts: Record<string, VerdictRecord>;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A version number in canonical decimal form (as parseVersionDirName returns it). */
export function isCanonicalVersion(version: string): boolean {
  if (!/^-?(?:0|[1-9][0-9]*)$/.test(version) || version === "-0") return false;
  const value = BigInt(version);
  return value >= INT64_MIN && value <= INT64_MAX;
}

export class LocalVerdictStore implements VerdictStore {
  readonly #paths: StatePaths;
  readonly #locks: FileLocks;

  constructor(paths: StatePaths, locks: FileLocks) {
    this.#paths = paths;
    this.#locks = locks;
  }

  async get(model: string, version: string): Promise<VerdictRecord | undefined> {
    checkVersion(version);
    return (await this.#read(model)).verdicts[version];
  }

  async list(model: string): Promise<VerdictRecord[]> {
    const { verdicts } = await this.#read(model);
    return Object.values(verdicts).sort((a, b) => compareVersions(a.version, b.version));
  }

  async put(record: VerdictRecord): Promise<void> {
    const stored = normalizeRecord(record);
    await this.#update(stored.model, (file) => {
      file.verdicts[stored.version] = stored;
      return true;
    });
  }

  async remove(model: string, version: string): Promise<boolean> {
    checkVersion(version);
    return this.#update(model, (file) => {
      if (!Object.hasOwn(file.verdicts, version)) return false;
      delete file.verdicts[version];
      return true;
    });
  }

  async #update(model: string, change: (file: VerdictFile) => boolean): Promise<boolean> {
    const path = this.#paths.verdicts(model);
    return this.#locks.withLock(stateLockName(model), async () => {
      const file = await this.#read(model);
      const changed = change(file);
      if (!changed) return false;
      await mkdir(dirname(path), { recursive: true, mode: STATE_DIR_MODE }).catch(
        (error: NodeJS.ErrnoException) => {
          throw stateDirError(dirname(path), error);
        },
      );
      await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      return true;
    });
  }

  async #read(model: string): Promise<VerdictFile> {
    const path = this.#paths.verdicts(model);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { model, verdicts: {} };
      throw new RolloutError(`cannot read the verdicts: ${(error as Error).message}`, {
        where: path,
        hint: "check the state directory's permissions (--state-dir)",
        cause: error,
      });
    }
    const damaged = (why: string) =>
      new RolloutError(`the verdict file is damaged: ${why}`, {
        where: path,
        hint:
          "it is only ever replaced atomically, so something else changed it; restore it from a backup, or move it " +
          "aside to start with no verdicts (rejected versions could then be tried again)",
      });
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch (error) {
      throw damaged((error as Error).message);
    }
    const verdicts = (file as Partial<VerdictFile> | null)?.verdicts;
    if (typeof verdicts !== "object" || verdicts === null || Array.isArray(verdicts))
      throw damaged(`no "verdicts" object`);
    for (const [version, record] of Object.entries(verdicts)) {
      const why = recordProblem(record);
      if (why) throw damaged(`version ${version}: ${why}`);
      if (record.version !== version)
        throw damaged(`version ${version} holds the record of ${record.version}`);
    }
    return { model, verdicts };
  }
}

function checkVersion(version: string): void {
  if (!isCanonicalVersion(version))
    throw new RolloutError(`"${version}" is not a version number`, {
      hint: "versions are TF Serving's int64 numbers in plain decimal, e.g. 7 (not 007 or v7)",
    });
}

function compareVersions(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

function normalizeRecord(record: VerdictRecord): VerdictRecord {
  const what = "verdict";
  assertNonEmpty(record.model, "model", what);
  checkVersion(record.version);
  if (!VERDICTS.includes(record.verdict))
    throw new RolloutError(
      `${what}: "verdict" must be one of ${VERDICTS.join(", ")}, not ${String(record.verdict)}`,
    );
  if (typeof record.reason !== "string") throw new RolloutError(`${what}: "reason" must be a string`);
  assertNonEmpty(record.at, "at", what);
  assertActor(record.by, what);
  const stored: VerdictRecord = {
    model: record.model,
    version: record.version,
    verdict: record.verdict,
    reason: record.reason,
    at: record.at,
    by: record.by,
  };
  if (record.gate !== undefined) stored.gate = record.gate;
  return asJson(stored, `verdict for ${record.model} version ${record.version}`) as unknown as VerdictRecord;
}

function recordProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const record = value as Partial<VerdictRecord>;
  if (typeof record.version !== "string" || !isCanonicalVersion(record.version)) return "bad version";
  if (!VERDICTS.includes(record.verdict as never)) return `unknown verdict ${JSON.stringify(record.verdict)}`;
  if (typeof record.reason !== "string" || typeof record.at !== "string") return "missing reason or at";
  if (!isActor(record.by)) return `bad "by" ${JSON.stringify(record.by)}`;
  return undefined;
}
