import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const METRIC_PREFIX = "tfs_rollout_";

export type RolloutOutcome = "promoted" | "rejected" | "rolled_back" | "skipped";
export type GateCheckOutcome = "pass" | "fail" | "skip";
export type RollbackKind = "automatic" | "manual";

/**
 * The daemon's Prometheus series, on a private Registry (never prom-client's global one, so several daemons or
 * tests in one process do not collide). Series (all prefixed tfs_rollout_):
 *   rollouts_total{model,outcome}                  counter   outcome: promoted|rejected|rolled_back|skipped
 *   gate_checks_total{model,check,outcome}         counter   outcome: pass|fail|skip
 *   rollbacks_total{model,kind}                    counter   kind: automatic|manual
 *   detection_to_promotion_seconds{model}          histogram candidate detected -> stable points at it
 *   stable_version{model}                          gauge     version number `stable` resolves to
 *   step_in_flight{model,step}                     gauge     1 while that step runs, else 0
 *   tfserving_call_duration_seconds{method}        histogram every TF Serving call, failed ones included
 *   tfserving_call_errors_total{method,code}       counter   code: gRPC status name or HTTP_<status>
 * plus prom-client's default process_* and nodejs_* metrics under their standard (unprefixed) names, so stock
 * dashboards work.
 */
export class RolloutMetrics {
  readonly registry = new Registry();
  private readonly rollouts: Counter<"model" | "outcome">;
  private readonly gateChecks: Counter<"model" | "check" | "outcome">;
  private readonly rollbacks: Counter<"model" | "kind">;
  private readonly promotionDelay: Histogram<"model">;
  private readonly stableVersion: Gauge<"model">;
  private readonly stepInFlight: Gauge<"model" | "step">;
  private readonly callDuration: Histogram<"method">;
  private readonly callErrors: Counter<"method" | "code">;
  private readonly currentStep = new Map<string, string>();
  private readonly exposeHooks = new Set<() => Promise<void>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.rollouts = new Counter({
      name: `${METRIC_PREFIX}rollouts_total`,
      help: "Rollouts finished, by outcome.",
      labelNames: ["model", "outcome"],
      registers,
    });
    this.gateChecks = new Counter({
      name: `${METRIC_PREFIX}gate_checks_total`,
      help: "Smoke gate checks run, by check and outcome.",
      labelNames: ["model", "check", "outcome"],
      registers,
    });
    this.rollbacks = new Counter({
      name: `${METRIC_PREFIX}rollbacks_total`,
      help: "Rollbacks of stable to a previous version, automatic (failed probe or step) or manual (operator).",
      labelNames: ["model", "kind"],
      registers,
    });
    this.promotionDelay = new Histogram({
      name: `${METRIC_PREFIX}detection_to_promotion_seconds`,
      help: "Time from a candidate version being detected to stable pointing at it.",
      labelNames: ["model"],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.stableVersion = new Gauge({
      name: `${METRIC_PREFIX}stable_version`,
      help: "Version the stable label points at (exact below 2^53).",
      labelNames: ["model"],
      registers,
    });
    this.stepInFlight = new Gauge({
      name: `${METRIC_PREFIX}step_in_flight`,
      help: "1 while the named rollout step runs for the model, 0 otherwise.",
      labelNames: ["model", "step"],
      registers,
    });
    this.callDuration = new Histogram({
      name: `${METRIC_PREFIX}tfserving_call_duration_seconds`,
      help: "Latency of calls to TF Serving, failed ones included.",
      labelNames: ["method"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.callErrors = new Counter({
      name: `${METRIC_PREFIX}tfserving_call_errors_total`,
      help: "Calls to TF Serving that failed, by status code.",
      labelNames: ["method", "code"],
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  rolloutFinished(model: string, outcome: RolloutOutcome): void {
    this.rollouts.inc({ model, outcome });
  }

  gateCheck(model: string, check: string, outcome: GateCheckOutcome): void {
    this.gateChecks.inc({ model, check, outcome });
  }

  rolledBack(model: string, kind: RollbackKind): void {
    this.rollbacks.inc({ model, kind });
  }

  /** Epoch ms of detection and of promotion; a negative span (clock step) is ignored. */
  promoted(model: string, version: string, detectedAtMs: number, promotedAtMs: number): void {
    if (promotedAtMs >= detectedAtMs)
      this.promotionDelay.observe({ model }, (promotedAtMs - detectedAtMs) / 1000);
    this.setStableVersion(model, version);
  }

  /** undefined: the model has no stable version (the series disappears). */
  setStableVersion(model: string, version: string | undefined): void {
    if (version === undefined) this.stableVersion.remove({ model });
    else this.stableVersion.set({ model }, Number(version));
  }

  /** The step now running for the model (its kind, e.g. "gate"), or undefined when none is. */
  setStepInFlight(model: string, step: string | undefined): void {
    const previous = this.currentStep.get(model);
    if (previous !== undefined && previous !== step) this.stepInFlight.set({ model, step: previous }, 0);
    if (step === undefined) this.currentStep.delete(model);
    else {
      this.currentStep.set(model, step);
      this.stepInFlight.set({ model, step }, 1);
    }
  }

  /** Drops every per-model series of a model removed from the config. */
  async forgetModel(model: string): Promise<void> {
    const perModel = [
      this.rollouts,
      this.gateChecks,
      this.rollbacks,
      this.promotionDelay,
      this.stableVersion,
      this.stepInFlight,
    ] as unknown as Gauge<string>[];
    for (const metric of perModel) {
      for (const { labels } of (await metric.get()).values) {
        if (labels.model !== model) continue;
        const { le: _bucket, ...series } = labels;
        metric.remove(series as Record<string, string>);
      }
    }
    this.currentStep.delete(model);
  }

  tfServingCall(method: string, seconds: number, errorCode?: string): void {
    this.callDuration.observe({ method }, seconds);
    if (errorCode !== undefined) this.callErrors.inc({ method, code: errorCode });
  }

  /** Times call() as a TF Serving call named method; rethrows its error after counting it. */
  async timeTfServingCall<T>(method: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      this.tfServingCall(method, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.tfServingCall(method, (performance.now() - started) / 1000, errorCodeOf(error));
      throw error;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Runs before each exposition (e.g. reading the in-flight steps from the journal); a failing hook is skipped
   * so a scrape always answers. Returns the function that removes it.
   */
  beforeExpose(hook: () => Promise<void>): () => void {
    this.exposeHooks.add(hook);
    return () => this.exposeHooks.delete(hook);
  }

  /** Prometheus text exposition of every series. */
  async expose(): Promise<string> {
    await Promise.all([...this.exposeHooks].map((hook) => hook().catch(() => undefined)));
    return this.registry.metrics();
  }
}

/** gRPC status name (GrpcCallError/GrpcUnreachableError), HTTP_<status> (TfServingHttpError), else UNKNOWN. */
export function errorCodeOf(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const { grpcCodeName, httpStatus } = error as { grpcCodeName?: unknown; httpStatus?: unknown };
    if (typeof grpcCodeName === "string") return grpcCodeName;
    if (typeof httpStatus === "number") return `HTTP_${httpStatus}`;
  }
  return "UNKNOWN";
}
