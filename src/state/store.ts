/**
 * The rollout state behind a small, backend-neutral interface: verdicts, the step journal, CLI intents and the
 * cross-process locks. The daemon and every CLI command open one `StateBackend` (today the local files of
 * `local-store.ts` under `--state-dir`; later etcd or Kubernetes Leases) and use it like this:
 *
 * - every step runs inside `locks.withModelLock(model, ...)`; every models.config write + reload runs inside
 *   `locks.withConfigLock(...)` (always taken after the model lock, never the other way round);
 * - `journal.append({ phase: "begin" })` before a step is applied and `"done"` / `"failed"` after it, with the same
 *   `id`; on start the daemon reads `journal.unfinished(model)` and resumes or reverts each of those steps;
 * - verdicts (promoted, rejected, ...) are the memory the planner reads so a rejected number is not retried;
 * - the CLI records what the operator asked for with `intents.put`, and whoever applies it (daemon or CLI, under
 *   the model lock) calls `intents.markConsumed`.
 *
 * All values are plain JSON so any backend can store them as they are.
 */

/** Who did something: the daemon, an automatic rollback, or an operator through the CLI (`cli:<user>`). */
export type Actor = "daemon" | "auto-rollback" | `cli:${string}`;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const VERDICTS = ["candidate", "promoted", "rejected", "skipped", "incomplete"] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface VerdictRecord {
  model: string;
  /** The version number as TF Serving's int64, in decimal (canonical form, no leading zeros). */
  version: string;
  verdict: Verdict;
  reason: string;
  /** ISO 8601 time the verdict was given. */
  at: string;
  by: Actor;
  /** The gate's report as JSON (requests, numbers, failures), when a gate decided. */
  gate?: JsonValue;
}

export interface VerdictStore {
  get(model: string, version: string): Promise<VerdictRecord | undefined>;
  /** Replaces the model's verdict for `record.version`. */
  put(record: VerdictRecord): Promise<void>;
  /** Every verdict of the model, by ascending version number. */
  list(model: string): Promise<VerdictRecord[]>;
  /** Forgets a verdict (`tfs-rollout retry`). True when there was one. */
  remove(model: string, version: string): Promise<boolean>;
}

export const JOURNAL_PHASES = ["begin", "done", "failed"] as const;
export type JournalPhase = (typeof JOURNAL_PHASES)[number];

export interface JournalEntry {
  /** Identifies one step: its "begin" and its "done"/"failed" entries share it. */
  id: string;
  model: string;
  /** What the step is, opaque to the journal (the executor's step object). */
  step: JsonValue;
  phase: JournalPhase;
  /** ISO 8601. */
  at: string;
  by: Actor;
  detail?: JsonValue;
}

/** What a caller passes to `append`; `at` defaults to the backend's clock. */
export type JournalEntryInput = Omit<JournalEntry, "at"> & { at?: string };

export interface Journal {
  /** Durably records the entry (on disk before the promise resolves) and returns it as stored. */
  append(entry: JournalEntryInput): Promise<JournalEntry>;
  /**
   * The steps that began and never finished, oldest first: for every id whose latest entry is "begin", that
   * entry. What the daemon must resume or revert after a crash.
   */
  unfinished(model: string): Promise<JournalEntry[]>;
  /** The audit trail, newest first, at most `limit` entries (default 100). */
  history(model: string, options?: { limit?: number }): Promise<JournalEntry[]>;
}

export interface Intent {
  id: string;
  model: string;
  /** The CLI command that asked: "rollback", "promote", "pin", "unpin", "retry", ... */
  kind: string;
  /** The command's arguments, as JSON. */
  args: JsonValue;
  by: Actor;
  /** ISO 8601. */
  at: string;
}

export type IntentInput = Omit<Intent, "id" | "at"> & { id?: string; at?: string };

export interface ConsumedIntent extends Intent {
  consumedAt: string;
  consumedBy: Actor;
  outcome: JsonValue;
}

export interface IntentQueue {
  put(intent: IntentInput): Promise<Intent>;
  /** Intents not yet consumed, oldest first; of one model, or of every model when `model` is omitted. */
  pending(model?: string): Promise<Intent[]>;
  /** Moves a pending intent to the consumed ones. Idempotent; unknown ids are an error. */
  markConsumed(model: string, id: string, by: Actor, outcome: JsonValue): Promise<ConsumedIntent>;
  /** The consumed intent `id` of the model with its outcome, or undefined while it is pending (or unknown). */
  consumed(model: string, id: string): Promise<ConsumedIntent | undefined>;
}

export interface LockOptions {
  /** How long to wait for a holder before failing with a LockTimeoutError naming it. */
  timeoutMs?: number;
}

/**
 * Cross-process mutual exclusion. Not reentrant: taking a lock the same process already holds waits for itself and
 * times out naming this process, so the executor takes each lock once, model lock first.
 */
export interface Locks {
  withModelLock<T>(model: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
  withConfigLock<T>(fn: () => Promise<T>, options?: LockOptions): Promise<T>;
}

export interface StateBackend {
  verdicts: VerdictStore;
  journal: Journal;
  intents: IntentQueue;
  locks: Locks;
}
