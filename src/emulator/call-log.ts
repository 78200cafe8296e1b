import type { CallRecord } from "./serving-api.js";

/** Filters for `CallLog.list`; every given field must match (strings exactly, case-sensitive). */
export interface CallQuery {
  transport?: CallRecord["transport"];
  method?: string;
  model?: string;
  version?: string;
  label?: string;
  code?: string;
  /** Only calls recorded at or after this time (ms, the log's clock). */
  since?: number;
}

export interface CallLogOptions {
  /** Most records kept; the oldest are dropped first. Default 10 000. */
  limit?: number;
  /** Clock for `at` when the caller does not give one (ms). Default Date.now. */
  now?: () => number;
}

export const DEFAULT_CALL_LOG_LIMIT = 10_000;

/**
 * Every call the emulator received (gRPC and REST), oldest first, so tests can assert what the daemon actually
 * sent. Bounded: past `limit` the oldest records are dropped and counted in `dropped`.
 */
export class CallLog {
  readonly limit: number;
  private readonly now: () => number;
  private records: CallRecord[] = [];
  private droppedCount = 0;

  constructor(options: CallLogOptions = {}) {
    const limit = options.limit ?? DEFAULT_CALL_LOG_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`call log limit must be a whole number ≥ 1, got ${limit}`);
    this.limit = limit;
    this.now = options.now ?? Date.now;
  }

  /** Appends one call; `at` defaults to the log's clock. Returns the stored record. */
  record(call: Omit<CallRecord, "at"> & { at?: number }): CallRecord {
    const stored: CallRecord = { ...call, at: call.at ?? this.now() };
    for (const key of Object.keys(stored) as (keyof CallRecord)[])
      if (stored[key] === undefined) delete stored[key];
    this.records.push(stored);
    const excess = this.records.length - this.limit;
    if (excess > 0) {
      this.records.splice(0, excess);
      this.droppedCount += excess;
    }
    return stored;
  }

  /** Matching records, oldest first (copies: mutating them does not change the log). */
  list(query: CallQuery = {}): CallRecord[] {
    return this.records.filter((record) => matches(record, query)).map((record) => ({ ...record }));
  }

  count(query: CallQuery = {}): number {
    return this.records.reduce((n, record) => n + (matches(record, query) ? 1 : 0), 0);
  }

  /** The most recent matching record, if any. */
  last(query: CallQuery = {}): CallRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--)
      if (matches(this.records[i]!, query)) return { ...this.records[i]! };
    return undefined;
  }

  /** Records currently held. */
  get size(): number {
    return this.records.length;
  }

  /** Records dropped because the log was full (since creation or the last clear). */
  get dropped(): number {
    return this.droppedCount;
  }

  clear(): void {
    this.records = [];
    this.droppedCount = 0;
  }
}

function matches(record: CallRecord, query: CallQuery): boolean {
  if (query.transport !== undefined && record.transport !== query.transport) return false;
  if (query.method !== undefined && record.method !== query.method) return false;
  if (query.model !== undefined && record.model !== query.model) return false;
  if (query.version !== undefined && record.version !== query.version) return false;
  if (query.label !== undefined && record.label !== query.label) return false;
  if (query.code !== undefined && record.code !== query.code) return false;
  if (query.since !== undefined && record.at < query.since) return false;
  return true;
}
