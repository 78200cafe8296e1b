// The deeper gate checks of issue 7, as one plain typed object the daemon fills from its config. Every part is
// optional and they combine; absent parts are not run (warmup replay runs whenever the candidate's directory is
// known, unless set to false).
import type { ExtraRequest, Tolerance } from "./extra-request.js";

/** Elementwise (absolute + relative·|expected|), or, with topK, agreement of each row's top-k class indices. */
export interface GoldenTolerance extends Tolerance {
  /** Compare floating-point outputs by their top-k indices along the last axis instead of elementwise. */
  topK?: number;
  /** Share of rows whose top-k index sets must agree (default 1: every row). */
  minTopKAgreement?: number;
}

/** An operator-written request with expected outputs (the daemon config's `gate.requests` entries). */
export interface GoldenRequest extends ExtraRequest {
  tolerance?: GoldenTolerance;
}

export interface GoldenOptions {
  requests?: GoldenRequest[];
  /**
   * `*.json`: one request, an array of them, or {"requests": [...]}, each in the daemon config's `gate.requests`
   * form ({name, signature_name, inputs, expected_outputs, tolerance}). Anything else: a TFRecord of
   * tensorflow.serving.PredictionLog whose predict_log responses are the expected outputs.
   */
  files?: string[];
  /** Tolerance for file requests that carry none (default: extra-request DEFAULT_TOLERANCE). */
  tolerance?: GoldenTolerance;
}

export interface WarmupReplayOptions {
  /** Predict records replayed at most (default 100; TF Serving's own cap is 1000). */
  maxRecords?: number;
}

/** Bounds on candidate − stable over the same requests; an absent bound is measured and reported only. */
export interface StableDiffOptions {
  maxAbsDiff?: number;
  /** |candidate − stable| / |stable|, over elements where stable is not 0. */
  maxRelDiff?: number;
  /** Share (0..1) of rows of rank ≥ 2 floating-point outputs whose argmax agrees. */
  minArgmaxAgreement?: number;
  /** Requests sent to stable at most (default 20). */
  maxRequests?: number;
}

export interface LatencyBudgetOptions {
  /** Requests to each version, interleaved with stable's (default 20). */
  requests?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Candidate p50/p99 at most this many times stable's, measured in the same run (e.g. 1.5). */
  maxP50VsStable?: number;
  maxP99VsStable?: number;
  /** Stable's percentiles count as at least this much in the ratios, so sub-millisecond jitter never fails (default 5). */
  floorMs?: number;
}

export interface DeepGateOptions {
  golden?: GoldenOptions;
  /** false: never replay warmup records. */
  warmupReplay?: WarmupReplayOptions | false;
  /** Needs the input's stableVersion. */
  stableDiff?: StableDiffOptions;
  latency?: LatencyBudgetOptions;
}

export const DEFAULT_WARMUP_REPLAY_RECORDS = 100;
export const DEFAULT_DIFF_REQUESTS = 20;
export const DEFAULT_LATENCY_REQUESTS = 20;
export const DEFAULT_LATENCY_FLOOR_MS = 5;
