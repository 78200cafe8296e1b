import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from "./signature.js";

/** One failed POST; retryable for network errors, timeouts, 408, 429 and 5xx. */
export class WebhookAttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "WebhookAttemptError";
  }
}

export interface WebhookAttempt {
  url: string;
  body: Buffer;
  eventType: string;
  deliveryId: string;
  secret?: string;
  timeoutMs: number;
  /** Aborts the attempt at once (notifier closing). */
  signal: AbortSignal;
  nowMs: () => number;
}

/** POSTs body once; resolves with the HTTP status on 2xx, otherwise throws WebhookAttemptError. */
export async function postWebhook(attempt: WebhookAttempt): Promise<number> {
  if (attempt.signal.aborted) throw new WebhookAttemptError("notifier closed before the attempt", false);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "tfs-rollout",
    [EVENT_HEADER]: attempt.eventType,
    [DELIVERY_HEADER]: attempt.deliveryId,
  };
  if (attempt.secret !== undefined) {
    const timestamp = Math.floor(attempt.nowMs() / 1000);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = signBody(attempt.secret, timestamp, attempt.body);
  }
  const timeout = AbortSignal.timeout(attempt.timeoutMs);
  let response: Response;
  try {
    response = await fetch(attempt.url, {
      method: "POST",
      headers,
      body: attempt.body,
      redirect: "manual",
      signal: AbortSignal.any([timeout, attempt.signal]),
    });
  } catch (error) {
    if (attempt.signal.aborted) throw new WebhookAttemptError("notifier closed during the attempt", false);
    if (timeout.aborted) throw new WebhookAttemptError(`no response within ${attempt.timeoutMs} ms`, true);
    throw new WebhookAttemptError(`request failed: ${describeCause(error)}`, true);
  }
  // The receiver's answer is not used; drop it so the connection can be reused.
  await response.body?.cancel().catch(() => undefined);
  const status = response.status;
  if (status >= 200 && status < 300) return status;
  const retryable = status === 408 || status === 429 || status >= 500;
  throw new WebhookAttemptError(`receiver answered HTTP ${status}`, retryable, status);
}

function describeCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
