/**
 * Turns the engine's applied steps (Engine.onStep) into Prometheus series and rollout events (webhooks):
 *
 *   admit ok                         → candidate_detected; rollouts{skipped} per superseded older version
 *   gate (ok or failed)              → gate_checks{check,outcome} per check; failed → gate_failed
 *   promote ok, then verify ok       → promoted; rollouts{promoted}; detection_to_promotion; stable_version
 *   start-rollback (an intent)       → the rollback's kind: manual when its actor (step.by, else the intent's
 *                                      `by`) is `cli:<user>`, automatic otherwise (the bake probe's "auto-rollback")
 *   verify ok of that target         → rolled_back; rollbacks{kind}; rollouts{rolled_back}; stable_version
 *   rollback-config ok outside one   → a failed candidate taken out: rolled_back, rollbacks{automatic}
 *   record-verdict rejected/incomplete → rollouts{rejected}; skipped → rollouts{skipped}
 *   await-available / mark-failed past the load deadline, record-verdict incomplete for an overdue copy
 *                                    → stuck_past_deadline
 *   request-approval ok (or approvalWaiting() called) → approval_waiting (once per version)
 *
 * Events of one model are handled in order (some need an async look-up); handle() never throws.
 */
import type { StepEvent } from "../engine/logger.js";
import type { JsonValue, RolloutEvent, RolloutEventType } from "./events.js";
import type { GateCheckOutcome, RollbackKind, RolloutMetrics } from "./metrics.js";

export interface RolloutTrackerOptions {
  metrics: RolloutMetrics;
  emit: (event: RolloutEvent) => void;
  /** Epoch ms. */
  now?: () => number;
  /** Who asked for an intent (`cli:<user>`, "auto-rollback", ...), or undefined when it is gone. */
  intentActor: (model: string, intentId: string) => Promise<string | undefined>;
  /** When the version was detected (its admit step), for a promotion whose admit this process did not see. */
  detectedAt: (model: string, version: string) => Promise<number | undefined>;
  /** The label the controller moves (default "stable"). */
  stableLabel?: string;
  onError?: (error: unknown) => void;
}

interface ModelTrack {
  detected: Map<string, number>;
  promoting?: { version: string; from?: string };
  rollback?: {
    intentId: string;
    target: string;
    reject: string[];
    kind: RollbackKind;
    by: string;
    done: boolean;
  };
  approvalAnnounced: Set<string>;
}

/** Only what the tracker reads of a step; new step kinds fall through untouched. */
interface LooseStep {
  kind: string;
  model: string;
  version?: string;
  candidate?: string;
  skipped?: string[];
  reason?: string;
  verdict?: string;
  intentId?: string;
  target?: string;
  reject?: string[];
  removed?: string[];
  from?: string;
  outcome?: string;
  deadline?: number;
  by?: string;
  config?: { labels?: Record<string, string> };
  observed?: { labels?: Record<string, string> };
}

const LOAD_DEADLINE = /load deadline|not AVAILABLE within/;
const OVERDUE = /never completed/;

export class RolloutTracker {
  private readonly models = new Map<string, ModelTrack>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly stableLabel: string;

  constructor(private readonly options: RolloutTrackerOptions) {
    this.now = options.now ?? Date.now;
    this.stableLabel = options.stableLabel ?? "stable";
  }

  /** Queues the event behind the model's earlier ones; the promise settles once it is handled. */
  handle(event: StepEvent): Promise<void> {
    const model = event.step.model;
    const next = (this.queues.get(model) ?? Promise.resolve())
      .then(() => this.apply(event))
      .catch((error: unknown) => this.options.onError?.(error));
    this.queues.set(model, next);
    return next;
  }

  /** Resolves once every event handed in so far is handled. */
  async idle(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  /** For steps that report a held candidate another way (engineer WIN's approval flow). */
  approvalWaiting(
    model: string,
    version: string,
    reason: string,
    details?: { [key: string]: JsonValue },
  ): void {
    const track = this.track(model);
    if (track.approvalAnnounced.has(version)) return;
    track.approvalAnnounced.add(version);
    this.emit("approval_waiting", model, version, reason, details);
  }

  private async apply(event: StepEvent): Promise<void> {
    const step = event.step as unknown as LooseStep;
    const { metrics } = this.options;
    const model = step.model;
    const track = this.track(model);
    const ok = event.outcome === "ok";
    const failed = event.outcome === "failed";
    switch (step.kind) {
      case "admit":
        if (!ok || step.candidate === undefined) break;
        track.detected.set(step.candidate, this.now());
        for (const _ of step.skipped ?? []) metrics.rolloutFinished(model, "skipped");
        this.emit("candidate_detected", model, step.candidate, event.reason, {
          ...(step.skipped?.length ? { skipped: step.skipped } : {}),
        });
        break;
      case "gate":
        if (event.outcome === "interrupted") break;
        for (const check of gateChecks(event.details)) metrics.gateCheck(model, check.label, check.outcome);
        if (failed && step.version !== undefined)
          this.emit("gate_failed", model, step.version, event.reason, gateDetails(event.details));
        break;
      case "await-available":
        if (failed && step.version !== undefined && LOAD_DEADLINE.test(event.reason))
          this.emit("stuck_past_deadline", model, step.version, event.reason, { deadline: "load_deadline" });
        break;
      case "mark-failed":
        if (ok && step.version !== undefined && LOAD_DEADLINE.test(step.reason ?? ""))
          this.emit("stuck_past_deadline", model, step.version, step.reason ?? event.reason, {
            deadline: "load_deadline",
          });
        break;
      case "record-verdict":
        if (ok && step.version !== undefined) this.verdict(track, model, step, event.reason);
        break;
      case "promote":
        if (ok && step.version !== undefined)
          track.promoting = { version: step.version, ...(step.from ? { from: step.from } : {}) };
        break;
      case "verify":
        if (ok && step.version !== undefined) await this.verified(track, model, step.version, event.reason);
        break;
      case "start-rollback":
        if (ok && step.intentId !== undefined && step.target !== undefined) {
          const by = step.by ?? (await this.options.intentActor(model, step.intentId)) ?? "unknown";
          track.rollback = {
            intentId: step.intentId,
            target: step.target,
            reject: step.reject ?? [],
            kind: by.startsWith("cli:") || by === "unknown" ? "manual" : "automatic",
            by,
            done: false,
          };
        }
        break;
      case "finish-intent": {
        const rollback = track.rollback;
        if (rollback !== undefined && rollback.intentId === step.intentId) {
          if (ok && step.outcome === "done" && !rollback.done)
            this.rolledBack(model, rollback.target, event.reason);
          track.rollback = undefined;
        }
        break;
      }
      case "rollback-config":
        if (ok && track.rollback === undefined)
          for (const version of step.removed ?? []) {
            metrics.rolledBack(model, "automatic");
            this.emit("rolled_back", model, version, step.reason ?? event.reason, {
              kind: "automatic",
              ...this.stableDetail(step),
            });
          }
        break;
      case "adopt":
      case "accept-hand-edit": {
        const labels = step.config?.labels ?? step.observed?.labels;
        if (ok && labels) metrics.setStableVersion(model, labels[this.stableLabel]);
        break;
      }
      case "request-approval":
        if (ok && step.version !== undefined)
          this.approvalWaiting(model, step.version, step.reason ?? event.reason, {
            ...(step.deadline === undefined ? {} : { deadline: new Date(step.deadline).toISOString() }),
          });
        break;
    }
  }

  private verdict(track: ModelTrack, model: string, step: LooseStep, reason: string): void {
    const version = step.version!;
    const { metrics } = this.options;
    if (step.verdict === "skipped") metrics.rolloutFinished(model, "skipped");
    // Versions an operator rollback takes out were counted as rolled back, not as a rejected rollout.
    if (step.verdict === "rejected" && !track.rollback?.reject.includes(version))
      metrics.rolloutFinished(model, "rejected");
    if (step.verdict === "incomplete") {
      metrics.rolloutFinished(model, "rejected");
      if (OVERDUE.test(reason) || OVERDUE.test(step.reason ?? ""))
        this.emit("stuck_past_deadline", model, version, step.reason ?? reason, {
          deadline: "incomplete_deadline",
        });
    }
  }

  private async verified(track: ModelTrack, model: string, version: string, reason: string): Promise<void> {
    const { metrics } = this.options;
    metrics.setStableVersion(model, version);
    const rollback = track.rollback;
    if (rollback !== undefined && rollback.target === version) {
      if (!rollback.done) this.rolledBack(model, version, reason);
      rollback.done = true;
      track.promoting = undefined;
      return;
    }
    const promoting = track.promoting;
    if (promoting?.version !== version) return;
    track.promoting = undefined;
    const detectedAt =
      track.detected.get(version) ?? (await this.options.detectedAt(model, version).catch(() => undefined));
    track.detected.delete(version);
    if (detectedAt !== undefined) metrics.promoted(model, version, detectedAt, this.now());
    metrics.rolloutFinished(model, "promoted");
    this.emit("promoted", model, version, reason, {
      ...(promoting.from === undefined ? {} : { previous: promoting.from }),
      ...(detectedAt === undefined ? {} : { detected_at: new Date(detectedAt).toISOString() }),
    });
  }

  private rolledBack(model: string, target: string, reason: string): void {
    const rollback = this.track(model).rollback!;
    this.options.metrics.rolledBack(model, rollback.kind);
    for (const _ of rollback.reject) this.options.metrics.rolloutFinished(model, "rolled_back");
    const from = rollback.reject.length > 0 ? rollback.reject.join(",") : target;
    this.emit("rolled_back", model, from, reason, {
      kind: rollback.kind,
      by: rollback.by,
      [this.stableLabel]: target,
      rolled_back: rollback.reject,
    });
  }

  private stableDetail(step: LooseStep): { [key: string]: JsonValue } {
    const stable = step.config?.labels?.[this.stableLabel];
    return stable === undefined ? {} : { [this.stableLabel]: stable };
  }

  private emit(
    type: RolloutEventType,
    model: string,
    version: string,
    reason: string,
    details?: { [key: string]: JsonValue },
  ): void {
    const event = {
      type,
      model,
      version,
      reason,
      at: new Date(this.now()).toISOString(),
      ...(details && Object.keys(details).length > 0 ? { details } : {}),
    } as RolloutEvent;
    this.options.emit(event);
  }

  private track(model: string): ModelTrack {
    let track = this.models.get(model);
    if (track === undefined) {
      track = { detected: new Map(), approvalAnnounced: new Set() };
      this.models.set(model, track);
    }
    return track;
  }
}

interface CheckLike {
  name?: unknown;
  passed?: unknown;
  skipped?: unknown;
  detail?: unknown;
}

/** The gate step's checks as metric samples; version numbers are dropped from names to bound the label set. */
export function gateChecks(details: Record<string, unknown> | undefined): {
  label: string;
  outcome: GateCheckOutcome;
}[] {
  const checks = Array.isArray(details?.checks) ? (details.checks as CheckLike[]) : [];
  return checks
    .filter((check) => typeof check.name === "string")
    .map((check) => ({
      label: checkLabel(check.name as string),
      outcome: check.skipped !== undefined ? "skip" : check.passed === true ? "pass" : "fail",
    }));
}

export function checkLabel(name: string): string {
  return name
    .replace(/\b\d+\b/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 80);
}

function gateDetails(details: Record<string, unknown> | undefined): { [key: string]: JsonValue } {
  const checks = Array.isArray(details?.checks) ? (details.checks as CheckLike[]) : [];
  const failed = checks
    .filter((check) => check.passed !== true && check.skipped === undefined)
    .map((check) => ({ name: String(check.name), detail: String(check.detail ?? "") }));
  return failed.length > 0 ? { failed_checks: failed } : {};
}
