import { ServingError } from "./serving-api.js";

/** How REST behaves while unavailable: answer 503 with an error body, or reset the connection (server down). */
export type RestUnavailableMode = "503" | "reset";

/** One of the emulator's two front ends (TF Serving's gRPC port and its REST port). */
export type Listener = "grpc" | "rest";

export interface StatusFault {
  /** tensorflow.error.Code name, e.g. "INTERNAL". */
  code: string;
  message: string;
}

export interface ReloadFault {
  /** Added before the next reload is applied (ms). */
  delayMs?: number;
  /** The next reload fails with this status instead of being applied. */
  fail?: StatusFault;
}

export interface HeldVersion {
  model: string;
  version: string;
}

/** What GET /faults shows (JSON-ready, snake_case like the rest of the control endpoint). */
export interface FaultsSnapshot {
  unavailable: { until: number; remaining_ms: number; rest: RestUnavailableMode; only?: Listener } | null;
  next_reload: { delay_ms?: number; fail?: StatusFault } | null;
  holds: HeldVersion[];
}

export interface FaultsOptions {
  /** Clock in ms (default Date.now); tests inject a fake one. */
  now?: () => number;
  /** How reload delays wait (default a real timer); tests inject one that resolves at once or on demand. */
  sleep?: (ms: number) => Promise<void>;
}

/** tensorflow.error.Code names accepted for injected failures (OK is not a failure). */
export const ERROR_CODE_NAMES = [
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Canonical decimal form of a version ("00000123" → "123"), so holds match however the version was spelled. */
export function canonicalVersion(version: string | number | bigint): string {
  const text = String(version).trim();
  if (!/^\d+$/.test(text))
    throw new RangeError(`version must be a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return BigInt(text).toString();
}

function holdKey(model: string, version: string): string {
  return `${model}\u0000${version}`;
}

/**
 * Injected failures, shared by the gRPC handlers, the REST server and the control server. All one object so
 * a test (through the control endpoint) can steer every front end at once.
 */
export class Faults {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private unavailableUntil: number | undefined;
  private restMode: RestUnavailableMode = "503";
  /** When set, only this listener is down and the other keeps answering (a split outage). */
  private unavailableOnly: Listener | undefined;
  private nextReload: ReloadFault | undefined;
  private readonly holds = new Map<
    string,
    { held: HeldVersion; release: () => void; released: Promise<void> }
  >();

  constructor(options: FaultsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * gRPC answers UNAVAILABLE and REST answers 503 (or resets) for the next `seconds` seconds. 0 clears it.
   * `only` takes down one listener and leaves the other answering.
   */
  makeUnavailable(seconds: number, options: { rest?: RestUnavailableMode; only?: Listener } = {}): void {
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new RangeError(`seconds must be a finite number ≥ 0, got ${seconds}`);
    this.unavailableUntil = seconds === 0 ? undefined : this.now() + seconds * 1000;
    this.restMode = options.rest ?? "503";
    this.unavailableOnly = options.only;
  }

  clearUnavailable(): void {
    this.unavailableUntil = undefined;
  }

  /** Whether `listener` (default: either) is down now. */
  isUnavailable(listener?: Listener): boolean {
    if (this.unavailableUntil === undefined) return false;
    if (listener !== undefined && this.unavailableOnly !== undefined && listener !== this.unavailableOnly)
      return false;
    if (this.now() < this.unavailableUntil) return true;
    this.unavailableUntil = undefined;
    return false;
  }

  /** The REST behaviour while unavailable, or undefined when serving normally. */
  restUnavailable(): RestUnavailableMode | undefined {
    return this.isUnavailable("rest") ? this.restMode : undefined;
  }

  /** The UNAVAILABLE status `listener` answers with, or undefined when it serves normally. */
  unavailableError(listener?: Listener): ServingError | undefined {
    if (!this.isUnavailable(listener)) return undefined;
    const seconds = Math.ceil((this.unavailableUntil! - this.now()) / 1000);
    return new ServingError(
      "UNAVAILABLE",
      `emulator fault: server unavailable (injected; ${seconds} s left, clear with POST /faults/unavailable {"seconds": 0})`,
    );
  }

  /** Throws the UNAVAILABLE ServingError while unavailable; for request handlers. */
  assertAvailable(listener?: Listener): void {
    const error = this.unavailableError(listener);
    if (error) throw error;
  }

  /** Arms a one-shot fault for the next reload (replaces any armed one). */
  setNextReload(fault: ReloadFault): void {
    const delayMs = fault.delayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new RangeError(`delay must be a finite number of ms ≥ 0, got ${delayMs}`);
    if (fault.fail && !(ERROR_CODE_NAMES as readonly string[]).includes(fault.fail.code))
      throw new RangeError(
        `unknown error code ${JSON.stringify(fault.fail.code)}; use one of ${ERROR_CODE_NAMES.join(", ")}`,
      );
    this.nextReload = {
      ...(delayMs > 0 ? { delayMs } : {}),
      ...(fault.fail ? { fail: { ...fault.fail } } : {}),
    };
  }

  clearNextReload(): void {
    this.nextReload = undefined;
  }

  /** Consumes the armed reload fault (if any) without acting on it. */
  takeNextReload(): ReloadFault | undefined {
    const fault = this.nextReload;
    this.nextReload = undefined;
    return fault;
  }

  /**
   * For the core's reload handler, called before applying a config: consumes the armed fault, waits its delay,
   * then throws its ServingError if it has one. Resolves at once when nothing is armed.
   */
  async applyNextReload(): Promise<void> {
    const fault = this.takeNextReload();
    if (!fault) return;
    if (fault.delayMs) await this.sleep(fault.delayMs);
    if (fault.fail) throw new ServingError(fault.fail.code, fault.fail.message);
  }

  /** Keeps `model` version `version` in LOADING until released (the core awaits `waitUntilReleased`). */
  hold(model: string, version: string | number | bigint): HeldVersion {
    const held = { model, version: canonicalVersion(version) };
    const key = holdKey(held.model, held.version);
    if (!this.holds.has(key)) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      this.holds.set(key, { held, release, released });
    }
    return held;
  }

  /** Releases a hold; false when that version was not held. */
  release(model: string, version: string | number | bigint): boolean {
    const key = holdKey(model, canonicalVersion(version));
    const entry = this.holds.get(key);
    if (!entry) return false;
    this.holds.delete(key);
    entry.release();
    return true;
  }

  releaseAll(): void {
    for (const entry of this.holds.values()) entry.release();
    this.holds.clear();
  }

  isHeld(model: string, version: string | number | bigint): boolean {
    return this.holds.has(holdKey(model, canonicalVersion(version)));
  }

  /** Resolves when the version is not (or no longer) held; for the core's loader, before marking AVAILABLE. */
  waitUntilReleased(model: string, version: string | number | bigint): Promise<void> {
    return this.holds.get(holdKey(model, canonicalVersion(version)))?.released ?? Promise.resolve();
  }

  snapshot(): FaultsSnapshot {
    const unavailable = this.isUnavailable()
      ? {
          until: this.unavailableUntil!,
          remaining_ms: this.unavailableUntil! - this.now(),
          rest: this.restMode,
          ...(this.unavailableOnly === undefined ? {} : { only: this.unavailableOnly }),
        }
      : null;
    const reload = this.nextReload;
    return {
      unavailable,
      next_reload: reload
        ? {
            ...(reload.delayMs !== undefined ? { delay_ms: reload.delayMs } : {}),
            ...(reload.fail ? { fail: { ...reload.fail } } : {}),
          }
        : null,
      holds: [...this.holds.values()].map((entry) => ({ ...entry.held })),
    };
  }

  /** Clears every fault and releases every hold. */
  reset(): void {
    this.clearUnavailable();
    this.clearNextReload();
    this.releaseAll();
  }
}
