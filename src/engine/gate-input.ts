/**
 * The one place a model's daemon config becomes a smoke-gate run: the engine's gate step and `tfs-rollout smoke`
 * both build their SmokeGateInput here, so an operator's manual smoke run checks exactly what the daemon would.
 */
import type {
  GateRequestConfig,
  GateTolerance,
  LatencyConfig,
  ModelConfigView,
  StableDiffConfig,
} from "../daemon-config/types.js";
import type {
  GoldenOptions,
  GoldenRequest,
  GoldenTolerance,
  LatencyBudgetOptions,
  StableDiffOptions,
} from "../gate/gate-options.js";
import { servedSignatures } from "../gate/gate-signature.js";
import type { SmokeGateInput, SmokeGateOptions } from "../gate/smoke-gate.js";
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";

export interface GateInputParams {
  model: string;
  /** The candidate version. */
  version: string;
  /** The version `stable` names now, if any (signature contract, stable diff, latency vs stable). */
  stable?: string;
  grpc: TfServingGrpcClient;
  /** Used only when the model's gate.use_rest is set. */
  rest?: RestClient;
  settings: ModelConfigView;
  /** The candidate's version directory, when readable: enables warmup replay. */
  candidateDir?: string;
}

export function buildSmokeGateInput(params: GateInputParams): SmokeGateInput {
  const g = params.settings.gate;
  return {
    model: params.model,
    version: params.version,
    ...(params.stable === undefined ? {} : { stableVersion: params.stable }),
    grpc: params.grpc,
    ...(g.use_rest && params.rest ? { rest: params.rest } : {}),
    signatureSource: servedSignatures(params.grpc, params.model, g.request_deadline),
    ...(params.candidateDir === undefined ? {} : { candidateDir: params.candidateDir }),
    options: smokeGateOptions(params.settings),
  };
}

/** The gate options of a model's config view. */
export function smokeGateOptions(settings: ModelConfigView): SmokeGateOptions {
  const g = settings.gate;
  // A request with top_k compares class rankings: only the golden comparison knows how.
  const ranked = (r: GateRequestConfig) => r.tolerance.top_k !== undefined;
  const golden: GoldenOptions = {};
  const goldenRequests = g.requests.filter(ranked).map(goldenRequest);
  if (goldenRequests.length > 0) golden.requests = goldenRequests;
  if (g.golden_files.length > 0) golden.files = [...g.golden_files];
  if (g.golden_tolerance) golden.tolerance = goldenTolerance(g.golden_tolerance);
  const options: SmokeGateOptions = {
    requestDeadlineMs: g.request_deadline,
    signatures: [g.signature_name],
    allowBreakingSignature: g.allow_breaking_signature,
    extraRequests: g.requests
      .filter((r) => !ranked(r))
      .map((r) => ({
        name: r.name,
        ...(r.signature_name === undefined ? {} : { signature: r.signature_name }),
        inputs: r.inputs,
        ...(r.expected_outputs === undefined ? {} : { expected: r.expected_outputs }),
        tolerance: { absolute: r.tolerance.absolute, relative: r.tolerance.relative },
      })),
    warmupReplay: g.warmup_replay.enabled ? { maxRecords: g.warmup_replay.max_records } : false,
  };
  if (golden.requests || golden.files) options.golden = golden;
  if (g.stable_diff.enabled) options.stableDiff = stableDiffOptions(g.stable_diff);
  if (g.latency.enabled) options.latency = latencyOptions(g.latency);
  return options;
}

function goldenRequest(r: GateRequestConfig): GoldenRequest {
  return {
    name: r.name,
    ...(r.signature_name === undefined ? {} : { signature: r.signature_name }),
    inputs: r.inputs,
    ...(r.expected_outputs === undefined ? {} : { expected: r.expected_outputs }),
    tolerance: goldenTolerance(r.tolerance),
  };
}

function goldenTolerance(t: GateTolerance): GoldenTolerance {
  return {
    absolute: t.absolute,
    relative: t.relative,
    ...(t.top_k === undefined ? {} : { topK: t.top_k }),
    ...(t.min_top_k_agreement === undefined ? {} : { minTopKAgreement: t.min_top_k_agreement }),
  };
}

function stableDiffOptions(d: StableDiffConfig): StableDiffOptions {
  return {
    maxRequests: d.requests,
    ...(d.max_absolute === undefined ? {} : { maxAbsDiff: d.max_absolute }),
    ...(d.max_relative === undefined ? {} : { maxRelDiff: d.max_relative }),
    ...(d.min_argmax_agreement === undefined ? {} : { minArgmaxAgreement: d.min_argmax_agreement }),
  };
}

function latencyOptions(l: LatencyConfig): LatencyBudgetOptions {
  return {
    requests: l.requests,
    floorMs: l.floor,
    ...(l.p50_budget === undefined ? {} : { p50Ms: l.p50_budget }),
    ...(l.p99_budget === undefined ? {} : { p99Ms: l.p99_budget }),
    ...(l.max_p50_ratio_vs_stable === undefined ? {} : { maxP50VsStable: l.max_p50_ratio_vs_stable }),
    ...(l.max_p99_ratio_vs_stable === undefined ? {} : { maxP99VsStable: l.max_p99_ratio_vs_stable }),
  };
}
