/** What the daemon tells the outside world about (webhooks; the same names appear in logs). */
export const ROLLOUT_EVENT_TYPES = [
  "candidate_detected",
  "gate_failed",
  "promoted",
  "rolled_back",
  "stuck_past_deadline",
  "approval_waiting",
] as const;
export type RolloutEventType = (typeof ROLLOUT_EVENT_TYPES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface RolloutEventBase<T extends RolloutEventType> {
  type: T;
  model: string;
  /** Model version as a decimal string (int64). */
  version: string;
  /** One human-readable sentence: why this happened. */
  reason: string;
  /** ISO 8601 UTC time the event happened. */
  at: string;
  /** Event-specific extras (gate report summary, previous stable, deadline, ...); must be JSON-serialisable. */
  details?: { [key: string]: JsonValue };
}

export type CandidateDetectedEvent = RolloutEventBase<"candidate_detected">;
export type GateFailedEvent = RolloutEventBase<"gate_failed">;
export type PromotedEvent = RolloutEventBase<"promoted">;
/** details.kind is "automatic" (bake probe, failed step) or "manual" (tfs-rollout rollback). */
export type RolledBackEvent = RolloutEventBase<"rolled_back">;
export type StuckPastDeadlineEvent = RolloutEventBase<"stuck_past_deadline">;
export type ApprovalWaitingEvent = RolloutEventBase<"approval_waiting">;

export type RolloutEvent =
  | CandidateDetectedEvent
  | GateFailedEvent
  | PromotedEvent
  | RolledBackEvent
  | StuckPastDeadlineEvent
  | ApprovalWaitingEvent;

/** The JSON document POSTed for one event: the event plus a delivery id that stays the same across retries. */
export interface WebhookPayload extends RolloutEventBase<RolloutEventType> {
  /** Unique per event and receiver; receivers use it to ignore duplicates (a retry after a lost response). */
  id: string;
  source: "tfs-rollout";
}
