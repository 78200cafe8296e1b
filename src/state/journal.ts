/**
 * The local Journal: `<state>/models/<model>/journal.jsonl`, append-only JSON lines (format in journal-file.ts).
 * Each append is one write() of a whole line on an O_APPEND file, then fsync, before the promise resolves. A torn
 * last line left by a crash is reported and skipped; the next append first ends it with a newline so the new
 * entry stays on a line of its own. When the file grows past `maxBytes` it is compacted (rewritten atomically)
 * down to about half that, newest entries first, always keeping every unfinished step. Reads keep each file's
 * parse in memory and then read only what was appended since (journal-tail.ts).
 *
 * Appends and compaction of one model run under a short per-model lock (`state.<model>`), so a daemon and a CLI
 * appending at once never lose an entry to a compaction.
 */
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../modelconfig/atomic-write.js";
import { RolloutError } from "../errors.js";
import type { FileLocks } from "./locks.js";
import {
  compactEntries,
  parseJournal,
  serializeJournalEntry,
  unfinishedEntries,
  type ParsedJournal,
} from "./journal-file.js";
import { JournalTail } from "./journal-tail.js";
import { escapeModelName, STATE_DIR_MODE, stateDirError, type StatePaths } from "./paths.js";
import { asJson, assertActor, assertNonEmpty } from "./records.js";
import { silentLogger, type StateLogger } from "./state-logger.js";
import { JOURNAL_PHASES, type Journal, type JournalEntry, type JournalEntryInput } from "./store.js";

export interface LocalJournalOptions {
  now?: () => Date;
  log?: StateLogger;
  /** Compaction threshold per model (bytes); 1 MiB. */
  maxBytes?: number;
  /** At most this many finished entries survive a compaction; 2000. */
  keepEntries?: number;
}

export function stateLockName(model: string): string {
  return `state.${escapeModelName(model)}`;
}

export class LocalJournal implements Journal {
  readonly #paths: StatePaths;
  readonly #locks: FileLocks;
  readonly #now: () => Date;
  readonly #log: StateLogger;
  readonly #maxBytes: number;
  readonly #keepEntries: number;
  readonly #reported = new Set<string>();
  /** Each journal as last read: a pass re-reads only what was appended since (journal-tail.ts). */
  readonly #tail = new JournalTail();

  constructor(paths: StatePaths, locks: FileLocks, options: LocalJournalOptions = {}) {
    this.#paths = paths;
    this.#locks = locks;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silentLogger;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#keepEntries = options.keepEntries ?? 2000;
  }

  async append(input: JournalEntryInput): Promise<JournalEntry> {
    const entry = normalizeEntry(input, this.#now);
    const path = this.#paths.journal(entry.model);
    await this.#locks.withLock(stateLockName(entry.model), async () => {
      await mkdir(dirname(path), { recursive: true, mode: STATE_DIR_MODE }).catch(
        (error: NodeJS.ErrnoException) => {
          throw stateDirError(dirname(path), error);
        },
      );
      const size = await appendLine(path, serializeJournalEntry(entry), () =>
        this.#log.warn(
          { model: entry.model, journal: path },
          "journal did not end with a newline (a crash mid-append?): the torn line is skipped and the new entry starts a line of its own",
        ),
      );
      if (size > this.#maxBytes) await this.#compact(entry.model, path);
    });
    return entry;
  }

  async unfinished(model: string): Promise<JournalEntry[]> {
    return unfinishedEntries((await this.read(model)).entries);
  }

  async history(model: string, options: { limit?: number } = {}): Promise<JournalEntry[]> {
    const { entries } = await this.read(model);
    return entries.reverse().slice(0, options.limit ?? 100);
  }

  /** Every readable entry in file order, and the lines that were skipped (each also logged once). */
  async read(model: string): Promise<ParsedJournal> {
    const path = this.#paths.journal(model);
    const parsed = await this.#tail.read(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return parseJournal("");
      throw new RolloutError(`cannot read the journal: ${error.message}`, {
        where: path,
        hint: "check the state directory's permissions (--state-dir)",
        cause: error,
      });
    });
    for (const problem of parsed.problems) {
      const key = `${path}:${problem.line}:${problem.excerpt}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#log.warn(
        { model, journal: path, line: problem.line, excerpt: problem.excerpt },
        `journal line ${problem.line} skipped: ${problem.message}`,
      );
    }
    return parsed;
  }

  async #compact(model: string, path: string): Promise<void> {
    const { entries } = await this.read(model);
    let keep = 0;
    let bytes = 0;
    for (let index = entries.length - 1; index >= 0 && keep < this.#keepEntries; index--) {
      bytes += Buffer.byteLength(serializeJournalEntry(entries[index]!));
      if (bytes > this.#maxBytes / 2) break;
      keep++;
    }
    const kept = compactEntries(entries, keep);
    await writeFileAtomic(path, kept.map(serializeJournalEntry).join(""));
    this.#tail.forget(path);
    this.#log.info(
      { model, journal: path, before: entries.length, after: kept.length },
      `journal compacted from ${entries.length} to ${kept.length} entries`,
    );
  }
}

function normalizeEntry(input: JournalEntryInput, now: () => Date): JournalEntry {
  const what = "journal entry";
  assertNonEmpty(input.id, "id", what);
  assertNonEmpty(input.model, "model", what);
  assertActor(input.by, what);
  if (!JOURNAL_PHASES.includes(input.phase))
    throw new RolloutError(
      `${what}: "phase" must be one of ${JOURNAL_PHASES.join(", ")}, not ${String(input.phase)}`,
    );
  const entry: JournalEntry = {
    id: input.id,
    model: input.model,
    step: input.step,
    phase: input.phase,
    at: input.at ?? now().toISOString(),
    by: input.by,
  };
  if (input.detail !== undefined) entry.detail = input.detail;
  return asJson(entry, `journal entry ${input.id}`) as unknown as JournalEntry;
}

/**
 * Appends `line` with one write and fsyncs it. A file not ending in a newline (torn by a crash) gets one first, in
 * the same write. Returns the file's new size.
 */
async function appendLine(path: string, line: string, onTorn: () => void): Promise<number> {
  const handle = await open(path, "a+", 0o600);
  try {
    const { size } = await handle.stat();
    let text = line;
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        onTorn();
        text = `\n${line}`;
      }
    }
    const bytes = Buffer.from(text, "utf8");
    try {
      await handle.appendFile(bytes);
      await handle.sync();
    } catch (error) {
      // A full disk writes part of the line: cut it off again, so the journal never keeps a torn line for a live
      // process (a crash can still leave one; reading skips it).
      await handle.truncate(size).catch(() => undefined);
      throw journalWriteError(path, error as NodeJS.ErrnoException);
    }
    if (size === 0) await syncDir(dirname(path));
    return size + bytes.length;
  } finally {
    await handle.close();
  }
}

function journalWriteError(path: string, error: NodeJS.ErrnoException): RolloutError {
  return new RolloutError(`cannot append to the journal ${path}: ${error.message}`, {
    where: path,
    hint:
      error.code === "ENOSPC" || error.code === "EDQUOT"
        ? "free space on the state directory's file system; the step is retried"
        : "check the state directory (--state-dir): its file system must be writable",
    cause: error,
  });
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
