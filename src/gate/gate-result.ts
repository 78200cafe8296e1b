// The gate's verdict: a list of named checks, each pass/fail with numbers, plus the first failing exchange.
// Issue 7 deepens the gate by adding checks to this list; callers only look at `passed` and log the rest.

/** One named check, e.g. "predict grpc serving_default" or "signature compatibility with stable 7". */
export interface GateCheck {
  name: string;
  passed: boolean;
  /** One line a person can act on: what passed, or what failed and why. */
  detail: string;
  /** Measurements behind the verdict (latency, counts, differences). */
  numbers?: Record<string, number>;
  /** Set when the check was not run (e.g. a signature that cannot be synthesised): why. A skip passes. */
  skipped?: string;
  /** Each change found by the signature-compatibility check. */
  changes?: SignatureChange[];
  /**
   * Set on a failed Predict that never got an answer from the version because a TF Serving listener was down
   * (isListenerOutage): it proves nothing about the version, so a gate failed only by such checks is inconclusive.
   */
  unreachable?: boolean;
}

/** Short description of one side of an exchange: dtypes, shapes and the first few values, never the payload. */
export type ExchangeSummary = Record<string, unknown>;

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
  durationMs: number;
  /** The request and response of the first failing Predict, summarised. */
  failingExchange?: { request: ExchangeSummary; response: ExchangeSummary };
}

export type SignatureChangeKind =
  | "signature-removed"
  | "input-removed"
  | "input-added"
  | "input-renamed"
  | "input-dtype"
  | "input-rank"
  | "input-shape"
  | "output-removed"
  | "output-added"
  | "output-renamed"
  | "output-dtype"
  | "output-rank"
  | "output-shape";

export interface SignatureChange {
  kind: SignatureChangeKind;
  signature: string;
  /** The alias concerned (for a rename: the candidate's new alias). */
  alias?: string;
  breaking: boolean;
  detail: string;
}
