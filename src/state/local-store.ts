/**
 * The local-files StateBackend: opens (creating with mode 0700) the state directory and wires the journal, verdict
 * store, intent queue and locks on it. Layout in paths.ts. The daemon opens it once at start-up; each CLI command
 * opens its own, and both meet in the same files and lock files.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseJournal } from "./journal-file.js";
import { FileLocks } from "./locks.js";
import { LocalIntentQueue } from "./intent-queue.js";
import { LocalJournal } from "./journal.js";
import { ensureStateDir, unescapeModelName, type StatePaths } from "./paths.js";
import { silentLogger, type StateLogger } from "./state-logger.js";
import type { StateBackend } from "./store.js";
import { LocalVerdictStore } from "./verdict-store.js";

export interface LocalStateOptions {
  /** Shown to processes waiting for our locks, e.g. "tfs-rollout daemon" or "tfs-rollout rollback m1". */
  command?: string;
  /** Default lock wait (ms); 60 s. */
  lockTimeoutMs?: number;
  /** Lock re-check interval (ms); 50. */
  lockPollMs?: number;
  /** Journal compaction threshold per model (bytes); 1 MiB. */
  journalMaxBytes?: number;
  now?: () => Date;
  log?: StateLogger;
}

export interface LocalState extends StateBackend {
  paths: StatePaths;
  journal: LocalJournal;
  locks: FileLocks;
  verdicts: LocalVerdictStore;
  intents: LocalIntentQueue;
}

/** STATE_DIRECTORY is set by systemd's StateDirectory= (a colon-separated list when several are given). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromSystemd = env.STATE_DIRECTORY?.split(":")[0];
  return fromSystemd ? fromSystemd : "/var/lib/tfs-rollout";
}

export async function openLocalState(dir: string, options: LocalStateOptions = {}): Promise<LocalState> {
  const paths = await ensureStateDir(dir);
  const log = options.log ?? silentLogger;
  const locks = new FileLocks(paths, {
    command: options.command,
    timeoutMs: options.lockTimeoutMs,
    pollMs: options.lockPollMs,
    now: options.now,
    log,
  });
  return {
    paths,
    locks,
    journal: new LocalJournal(paths, locks, { now: options.now, log, maxBytes: options.journalMaxBytes }),
    verdicts: new LocalVerdictStore(paths, locks),
    intents: new LocalIntentQueue(paths, locks, { now: options.now }),
  };
}

/**
 * The models that have state here, sorted (for `tfs-rollout history` and `status` without a model, which also
 * covers models since removed from models.config). A name too long to be kept in its directory name is read back
 * from its journal or verdicts.
 */
export async function storedModels(paths: StatePaths): Promise<string[]> {
  const entries = await readdir(paths.modelsDir, { withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    },
  );
  const models: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const name = unescapeModelName(entry.name) ?? (await nameFromContents(join(paths.modelsDir, entry.name)));
    if (name !== undefined) models.push(name);
  }
  return models.sort();
}

async function nameFromContents(dir: string): Promise<string | undefined> {
  const journal = await readFile(join(dir, "journal.jsonl"), "utf8").catch(() => "");
  const fromJournal = parseJournal(journal).entries[0]?.model;
  if (fromJournal !== undefined) return fromJournal;
  const verdicts = await readFile(join(dir, "verdicts.json"), "utf8").catch(() => "{}");
  try {
    const model = (JSON.parse(verdicts) as { model?: unknown }).model;
    return typeof model === "string" ? model : undefined;
  } catch {
    return undefined;
  }
}
