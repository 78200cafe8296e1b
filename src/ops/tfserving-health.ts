/**
 * "Did TF Serving answer recently?" for /readyz and for systemd's READY=1, fed by the gRPC client's call observer
 * (every attempt of every call, see TfServingGrpcClient.observeCalls). An attempt that got any gRPC status from
 * the server, errors such as NOT_FOUND included, counts as an answer; UNAVAILABLE and DEADLINE_EXCEEDED mean
 * TF Serving was not reached. When the daemon has nothing to do it makes no calls, so a prober sends a cheap
 * GetModelStatus whenever no attempt finished for a while.
 */

/** gRPC status names that mean "TF Serving did not answer". */
const NOT_REACHED = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED"]);

export interface TfServingHealthOptions {
  /** What /readyz names, e.g. "127.0.0.1:8500". */
  address: string;
  /** An answer older than this no longer counts (default 60 s). */
  freshForMs?: number;
  nowMs?: () => number;
}

export class TfServingHealth {
  private lastAttemptAt: number | undefined;
  private lastAnswerAt: number | undefined;
  private lastFailure: string | undefined;
  private readonly firstAttemptWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly options: TfServingHealthOptions) {
    this.now = options.nowMs ?? (() => performance.now());
  }

  /** The CallObserver to register on the gRPC client. */
  readonly observe = (method: string, _durationMs: number, code: string): void => {
    const now = this.now();
    this.lastAttemptAt = now;
    if (NOT_REACHED.has(code)) this.lastFailure = `${method} ended ${code}`;
    else {
      this.lastAnswerAt = now;
      this.lastFailure = undefined;
    }
    for (const resolve of this.firstAttemptWaiters.splice(0)) resolve();
  };

  /** Resolves once any attempt ended, answered or not ("contacted or being retried"). */
  firstAttempt(): Promise<void> {
    if (this.lastAttemptAt !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.firstAttemptWaiters.push(resolve));
  }

  /** Milliseconds since the last attempt ended, or undefined before the first one. */
  sinceLastAttemptMs(): number | undefined {
    return this.lastAttemptAt === undefined ? undefined : this.now() - this.lastAttemptAt;
  }

  /** undefined when TF Serving answered the latest attempt recently; otherwise why not, for /readyz. */
  notReadyReason(): string | undefined {
    const where = this.options.address;
    if (this.lastAttemptAt === undefined) return `${where} not contacted yet`;
    if (this.lastFailure !== undefined) return `${where} unreachable: ${this.lastFailure}`;
    const age = this.now() - (this.lastAnswerAt ?? -Infinity);
    const fresh = this.options.freshForMs ?? 60_000;
    if (age > fresh) return `${where} has not answered for ${Math.round(age / 1000)} s`;
    return undefined;
  }
}

export interface TfServingProberOptions {
  health: TfServingHealth;
  /** A cheap call, e.g. GetModelStatus of a managed model (NOT_FOUND still proves TF Serving answered). */
  probe: () => Promise<unknown>;
  /** Probe when no attempt ended for this long (default 5 s); also probes once at start. */
  intervalMs?: number;
}

/** Keeps TfServingHealth fresh while the daemon is idle; one probe at a time. Returns the stop function. */
export function startTfServingProber(options: TfServingProberOptions): () => void {
  const intervalMs = options.intervalMs ?? 5000;
  let running = false;
  const tick = () => {
    const since = options.health.sinceLastAttemptMs();
    if (running || (since !== undefined && since < intervalMs)) return;
    running = true;
    void options
      .probe()
      .catch(() => undefined)
      .finally(() => (running = false));
  };
  tick();
  const timer = setInterval(tick, Math.max(50, Math.floor(intervalMs / 2)));
  timer.unref();
  return () => clearInterval(timer);
}
