import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { RolloutError } from "../errors.js";
import { Backoff, retryWithBackoff, type BackoffOptions } from "../tfserving/backoff.js";
import type { RolloutEvent, RolloutEventType, WebhookPayload } from "./events.js";
import { WebhookAttemptError, postWebhook } from "./webhook-attempt.js";

export interface WebhookTarget {
  url: string;
  /** HMAC key; without it the POST carries no signature headers. */
  secret?: string;
  /** Per attempt, ms (default 5000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Only these event types are sent to this URL (default: every event). */
  events?: readonly RolloutEventType[];
}

export type DeliveryOutcome = "delivered" | "failed" | "dropped";

export interface DeliveryResult {
  url: string;
  event: RolloutEvent;
  outcome: DeliveryOutcome;
  /** POSTs made (0 when dropped before any). */
  attempts: number;
  /** Why it failed or was dropped. */
  error?: string;
}

export interface WebhookNotifierOptions {
  targets: WebhookTarget[];
  /** Events waiting per target; beyond it the oldest is dropped (default 100). */
  queueLimit?: number;
  /** Delay between retries (default 1 s growing to 30 s). */
  backoff?: Omit<BackoffOptions, "sleep">;
  /** Called once per event and target with how it ended (for logs and metrics); must not throw. */
  onResult?: (result: DeliveryResult) => void;
  nowMs?: () => number;
}

export interface DeliveryStats {
  delivered: number;
  failed: number;
  dropped: number;
  /** Waiting or being delivered right now. */
  pending: number;
}

interface QueuedEvent {
  event: RolloutEvent;
  deliveryId: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRIES = 3;
const DEFAULT_QUEUE_LIMIT = 100;

/**
 * Sends each rollout event as one signed JSON POST to every configured URL, in the background: notify() never
 * waits and never throws, so a dead or slow receiver cannot hold up a rollout. Each URL has its own bounded
 * queue (events stay in order per URL; when full the oldest is dropped and counted) and its own worker.
 */
export class WebhookNotifier {
  private readonly queues: TargetQueue[];
  private readonly stopping = new AbortController();
  private closing = false;
  /** @internal Mutated by the per-target queues; read through `stats`. */
  readonly counts: DeliveryStats = { delivered: 0, failed: 0, dropped: 0, pending: 0 };

  constructor(private readonly options: WebhookNotifierOptions) {
    const limit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError("WebhookNotifier: queueLimit must be >= 1");
    options.targets.forEach((target, index) => checkUrl(target.url, index));
    this.queues = options.targets.map((target) => new TargetQueue(target, limit, this));
  }

  notify(event: RolloutEvent): void {
    for (const queue of this.queues) {
      if (queue.target.events !== undefined && !queue.target.events.includes(event.type)) continue;
      if (this.closing)
        this.report({
          url: queue.target.url,
          event,
          outcome: "dropped",
          attempts: 0,
          error: "notifier closed",
        });
      else queue.push({ event, deliveryId: randomUUID() });
    }
  }

  get stats(): DeliveryStats {
    return { ...this.counts };
  }

  /**
   * Stops taking events and waits up to deadlineMs for queued deliveries (retries included); whatever is still
   * queued or in flight then is aborted and counted as dropped. Resolves with the final stats.
   */
  async close(deadlineMs = 5000): Promise<DeliveryStats> {
    this.closing = true;
    const idle = Promise.all(this.queues.map((queue) => queue.idle()));
    const timer = new AbortController();
    await Promise.race([idle, delay(deadlineMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    this.stopping.abort();
    for (const queue of this.queues) queue.dropAll("close deadline passed before delivery");
    await idle;
    return this.stats;
  }

  /** @internal */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  /** @internal */
  get settings(): WebhookNotifierOptions {
    return this.options;
  }

  /** @internal */
  report(result: DeliveryResult): void {
    this.counts[result.outcome]++;
    try {
      this.options.onResult?.(result);
    } catch {
      // A faulty observer must not kill the delivery worker.
    }
  }
}

class TargetQueue {
  private readonly items: QueuedEvent[] = [];
  private running: Promise<void> | undefined;

  constructor(
    readonly target: WebhookTarget,
    private readonly limit: number,
    private readonly notifier: WebhookNotifier,
  ) {}

  push(item: QueuedEvent): void {
    if (this.items.length >= this.limit) {
      const oldest = this.items.shift()!;
      this.notifier.counts.pending--;
      this.drop(oldest, `queue full (${this.limit} events waiting)`);
    }
    this.items.push(item);
    this.notifier.counts.pending++;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  dropAll(reason: string): void {
    for (const item of this.items.splice(0)) {
      this.notifier.counts.pending--;
      this.drop(item, reason);
    }
  }

  private drop(item: QueuedEvent, error: string): void {
    this.notifier.report({ url: this.target.url, event: item.event, outcome: "dropped", attempts: 0, error });
  }

  private async drain(): Promise<void> {
    for (let item = this.items.shift(); item !== undefined; item = this.items.shift()) {
      const result = await this.deliver(item);
      this.notifier.counts.pending--;
      this.notifier.report(result);
    }
  }

  private async deliver(item: QueuedEvent): Promise<DeliveryResult> {
    const { target, notifier } = this;
    const signal = notifier.signal;
    const settings = notifier.settings;
    const payload: WebhookPayload = { id: item.deliveryId, source: "tfs-rollout", ...item.event };
    const body = Buffer.from(JSON.stringify(payload));
    const backoff = new Backoff({
      initialMs: 1000,
      maxMs: 30_000,
      ...settings.backoff,
      sleep: (ms) => delay(ms, undefined, { signal }).catch(() => undefined),
    });
    let attempts = 0;
    try {
      await retryWithBackoff(
        (n) => {
          attempts = n;
          return postWebhook({
            url: target.url,
            body,
            eventType: item.event.type,
            deliveryId: item.deliveryId,
            secret: target.secret,
            timeoutMs: target.timeoutMs ?? DEFAULT_TIMEOUT_MS,
            signal,
            nowMs: settings.nowMs ?? Date.now,
          });
        },
        {
          backoff,
          attempts: (target.retries ?? DEFAULT_RETRIES) + 1,
          retryable: (error) => error instanceof WebhookAttemptError && error.retryable && !signal.aborted,
        },
      );
      return { url: target.url, event: item.event, outcome: "delivered", attempts };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const outcome = signal.aborted ? "dropped" : "failed";
      return { url: target.url, event: item.event, outcome, attempts, error: message };
    }
  }
}

function checkUrl(url: string, index: number): void {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol === "http:" || parsed?.protocol === "https:") return;
  throw new RolloutError(`webhook URL "${url}" is not an http:// or https:// URL`, {
    where: `notifications.webhooks[${index}].url`,
    hint: "give the receiver's full URL, e.g. https://hooks.example.com/tfs-rollout",
  });
}
