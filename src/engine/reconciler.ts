/**
 * The daemon's work queue: models to reconcile form a SET (enqueueing a model already queued is a no-op; one that
 * is running is run again afterwards), at most `maxParallel` models run at once, and each run loops
 * modelPass() until plan() says converged or wait. A wait re-enqueues the model with a timer (the wait's `until`,
 * the admission re-check delay, or a backoff while TF Serving is unreachable). Several failed steps in a row also
 * back off, so a persistent refusal never spins. `stop()` lets running steps finish (probes abort), then resolves.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { WaitReason } from "../controller/types.js";
import { errorText } from "../gate/summary.js";
import type { EngineLogger } from "./logger.js";
import type { PassResult } from "./model-pass.js";

export interface ReconcilerOptions {
  pass(model: string): Promise<PassResult>;
  log: EngineLogger;
  maxParallel: number;
  now(): number;
  /** Failed steps in a row before backing off (default 5). */
  maxFailuresInARow?: number;
  /** Steps in one run before yielding to other models (default 200). */
  maxStepsPerRun?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export type ModelOutcome = "converged" | "waiting" | "failing" | "aborted" | "error";

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 };
/** In one pass, a version waiting out its quiet window is waited for if that takes at most this long... */
const ONE_PASS_QUIET_WAIT_MAX_MS = 30_000;
/** ...and at most this many times in a row (a tree that keeps changing is left to the next pass). */
const ONE_PASS_QUIET_WAITS = 3;
/** Waits with nothing to time them on (events and the cron rescan also re-enqueue). */
const WAIT_RECHECK_MS: Record<WaitReason, number | "backoff"> = {
  unreachable: "backoff",
  "unsafe-config": "backoff",
  "not-in-config": 5_000,
  "nothing-available": 1_000,
  unloading: 500,
  "admission-pending": 1_000,
  pinned: 30_000,
  "target-missing": 5_000,
  // Promotion windows and approval carry `until`; a promote intent or a config reload also re-enqueues.
  window: 60_000,
  approval: 60_000,
  // Fleet mode: other replicas' progress arrives through the coordination backend, looked at again this often.
  "fleet-unreachable": "backoff",
  "fleet-slot": 2_000,
  "fleet-verdict": 2_000,
  "fleet-removal": 2_000,
};

export class Reconciler {
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly backoffMs = new Map<string, number>();
  private readonly lastWait = new Map<string, string>();
  readonly outcomes = new Map<string, ModelOutcome>();
  /** `--once` or stopping: no timers. */
  private noTimers = false;
  private stopRequested = false;
  private idleWaiters: (() => void)[] = [];
  private maxParallel: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.maxParallel = options.maxParallel;
  }

  /** How many models may run at once now. */
  get parallelism(): number {
    return this.maxParallel;
  }

  /** SIGHUP (`rollout.max_parallel_models`): applies to the next model started; running ones finish. */
  setMaxParallel(maxParallel: number): void {
    this.maxParallel = Math.max(1, maxParallel);
    this.pump();
  }

  /** A model no longer managed (removed from models.config): drops its queue entry, timer and reports. */
  forget(model: string): void {
    this.queued.delete(model);
    const timer = this.timers.get(model);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(model);
    this.backoffMs.delete(model);
    this.lastWait.delete(model);
    this.outcomes.delete(model);
  }

  enqueue(model: string): void {
    if (this.stopRequested) return;
    this.queued.add(model);
    this.pump();
  }

  /** Runs every model once (bounded parallel), without timers: `--once`. True when all converged. */
  async runOnce(models: readonly string[]): Promise<boolean> {
    this.noTimers = true;
    const pending = [...models];
    const workers = Array.from({ length: Math.max(1, this.maxParallel) }, async () => {
      for (let model = pending.shift(); model !== undefined; model = pending.shift()) {
        this.outcomes.set(model, await this.runModel(model));
      }
    });
    await Promise.all(workers);
    return models.every((m) => this.outcomes.get(m) === "converged");
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Lets running steps finish (the caller aborts probes through their signal), then resolves. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.noTimers = true;
    this.queued.clear();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }

  private pump(): void {
    for (const model of [...this.queued]) {
      if (this.running.size >= this.maxParallel) break;
      if (this.running.has(model)) continue;
      this.queued.delete(model);
      const run = this.runModel(model)
        .then((outcome) => void this.outcomes.set(model, outcome))
        .finally(() => {
          this.running.delete(model);
          this.pump();
          if (this.queued.size === 0 && this.running.size === 0) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
          }
        });
      this.running.set(model, run);
    }
  }

  private async runModel(model: string): Promise<ModelOutcome> {
    const { log } = this.options;
    let failures = 0;
    let quietWaits = 0;
    const maxFailures = this.options.maxFailuresInARow ?? 5;
    for (let steps = 0; steps < (this.options.maxStepsPerRun ?? 200); steps++) {
      let result: PassResult;
      try {
        result = await this.options.pass(model);
      } catch (error) {
        log.error({ model, reason: errorText(error) }, `reconcile of ${model} failed: ${errorText(error)}`);
        this.later(model, this.nextBackoff(model));
        return "error";
      }
      switch (result.kind) {
        case "converged":
          this.backoffMs.delete(model);
          this.reportWait(model, undefined);
          return "converged";
        case "interrupted":
          this.reportWait(model, `unreachable: ${result.reason}`);
          this.later(model, this.nextBackoff(model));
          return "waiting";
        case "aborted":
          log.info({ model, reason: result.reason }, "step interrupted");
          return "aborted";
        case "wait": {
          const { step } = result;
          this.reportWait(model, `${step.reason}: ${step.detail}`);
          // One pass (`--once`, operator commands) has no timers, and a fresh process has never seen a directory
          // before: a complete version only waiting out its quiet window is waited for, a few times at most.
          if (
            this.noTimers &&
            !this.stopRequested &&
            step.reason === "admission-pending" &&
            result.recheckInMs !== undefined &&
            result.recheckInMs <= ONE_PASS_QUIET_WAIT_MAX_MS &&
            quietWaits++ < ONE_PASS_QUIET_WAITS
          ) {
            await sleep(Math.max(20, result.recheckInMs));
            continue;
          }
          const fixed = WAIT_RECHECK_MS[step.reason];
          let delay = fixed === "backoff" ? this.nextBackoff(model) : fixed;
          if (step.reason === "admission-pending" && result.recheckInMs !== undefined)
            delay = result.recheckInMs;
          // Capped: a window weeks away must not overflow setTimeout (which then fires at once).
          if (step.until !== undefined)
            delay = Math.min(3_600_000, Math.max(0, step.until - this.options.now()));
          this.later(model, Math.max(20, delay));
          return "waiting";
        }
        case "stepped":
          this.reportWait(model, undefined);
          if (result.ok) {
            failures = 0;
            // Progress ends the backoff: grown by earlier outages, it would delay the next outage's retry by up
            // to maxMs (a rollout stalled for 30 s after a 1 s outage).
            this.backoffMs.delete(model);
          } else if (++failures >= maxFailures) {
            const delay = this.nextBackoff(model);
            log.warn(
              { model, step: result.step.kind, reason: result.reason, retry_in_ms: delay },
              `${failures} failed steps in a row; backing off`,
            );
            this.later(model, delay);
            return "failing";
          }
          if (this.stopRequested) return "aborted";
          break;
      }
    }
    this.later(model, 0);
    return "waiting";
  }

  /** What each waiting model waits for now (systemd STATUS, readiness, `status`). */
  waits(): ReadonlyMap<string, string> {
    return this.lastWait;
  }

  private reportWait(model: string, what: string | undefined): void {
    const before = this.lastWait.get(model);
    if (what === before) return;
    if (what === undefined) this.lastWait.delete(model);
    else {
      this.lastWait.set(model, what);
      this.options.log.info({ model, step: "wait", waiting_for: what }, `${model} waits: ${what}`);
    }
  }

  private nextBackoff(model: string): number {
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    const current = this.backoffMs.get(model);
    const next = current === undefined ? initialMs : Math.min(maxMs, current * 2);
    this.backoffMs.set(model, next);
    return next;
  }

  private later(model: string, ms: number): void {
    if (this.noTimers) return;
    const existing = this.timers.get(model);
    if (existing !== undefined) clearTimeout(existing);
    this.timers.set(
      model,
      setTimeout(() => {
        this.timers.delete(model);
        this.enqueue(model);
      }, ms),
    );
  }
}
