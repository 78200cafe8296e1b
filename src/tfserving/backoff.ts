import { setTimeout as delay } from "node:timers/promises";

export interface BackoffOptions {
  /** First delay, ms. */
  initialMs?: number;
  /** Upper bound of the un-jittered delay, ms. */
  maxMs?: number;
  /** Growth factor applied after each delay. */
  multiplier?: number;
  /** Fraction in [0, 1]: each delay is spread uniformly over ±jitter of its nominal value. */
  jitter?: number;
  /** Uniform [0, 1) source; injectable for tests. */
  random?: () => number;
  /** Waits the given ms; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Exponential backoff with jitter, after grpc-js's BackoffTimeout: the nominal delay starts at initialMs, is
 * multiplied by multiplier after each use and capped at maxMs; the delay actually used is the nominal one
 * ± jitter × nominal.
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;
  private readonly random: () => number;
  private readonly sleeper: (ms: number) => Promise<void>;
  private nominalMs: number;

  constructor(private readonly options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 120_000;
    this.multiplier = options.multiplier ?? 1.6;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    this.sleeper = options.sleep ?? ((ms) => delay(ms));
    check(this.initialMs >= 0, "initialMs must be >= 0");
    check(this.maxMs >= this.initialMs, "maxMs must be >= initialMs");
    check(this.multiplier >= 1, "multiplier must be >= 1");
    check(this.jitter >= 0 && this.jitter <= 1, "jitter must be within [0, 1]");
    this.nominalMs = this.initialMs;
  }

  /** The next delay to wait (jitter applied), advancing the sequence. */
  nextDelayMs(): number {
    const nominal = this.nominalMs;
    this.nominalMs = Math.min(nominal * this.multiplier, this.maxMs);
    const spread = nominal * this.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.round(nominal + spread));
  }

  /** Waits the next delay (or less, when capMs is smaller) and returns how long it waited. */
  async wait(capMs = Infinity): Promise<number> {
    const ms = Math.max(0, Math.min(this.nextDelayMs(), capMs));
    await this.sleeper(ms);
    return ms;
  }

  /** A fresh sequence with the same settings (and the same random/sleep), e.g. one per call. */
  clone(): Backoff {
    return new Backoff(this.options);
  }

  /** Back to initialMs, e.g. after a success. */
  reset(): void {
    this.nominalMs = this.initialMs;
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`Backoff: ${message}`);
}

export interface RetryOptions {
  /** Used as is (not reset): give each retried operation its own, e.g. via clone(). */
  backoff: Backoff;
  /** Total attempts including the first (>= 1). */
  attempts: number;
  /** No new attempt starts after this many ms since the first one. */
  overallDeadlineMs?: number;
  /** Whether a failure may be retried. */
  retryable: (error: unknown) => boolean;
  now?: () => number;
}

/** Runs attempt() until it succeeds, fails with a non-retryable error, or attempts/overall deadline run out. */
export async function retryWithBackoff<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  const budgetEnd = started + (options.overallDeadlineMs ?? Infinity);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const remaining = budgetEnd - now();
      if (n >= options.attempts || remaining <= 0 || !options.retryable(error)) throw error;
      await options.backoff.wait(remaining);
    }
  }
}
