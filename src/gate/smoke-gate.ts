// The default smoke gate (issue 5, rollout step 2). The daemon calls runSmokeGate once the candidate is
// AVAILABLE, before moving `stable`: a failing result means roll the candidate back, and the result's checks and
// failingExchange go into the step's log event. I/O stays at the edges: the gRPC/REST clients, the signature
// source and the clock are all passed in.
//
// Order: read the candidate's signatures; compare them with stable's (when there is a stable); then for each
// gated signature (default serving_default) a synthesised request, then every configured extra request, each
// over gRPC and, when a REST client is given, over REST. All of it runs even after a failure, so one log event
// lists every problem at once.
//
// Issue 7's deeper checks follow, each only when configured (DeepGateOptions): golden requests (sent like extra
// requests), warmup replay (when the candidate's directory is known), the stable-vs-candidate diff over every
// request the candidate answered, and the latency budget.
//
// Fail-closed choice: when serving_default cannot be synthesised (e.g. it takes serialized tf.Examples) and no
// extra request covers it, the gate FAILS unless `allowUnsynthesizable` is set. The gate exists because TF
// Serving marks half-copied versions AVAILABLE (facts §9.1); promoting a version nothing was sent to would make
// the default the very case the product is meant to prevent.
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { checkOutputs } from "./check-response.js";
import {
  compareExpected,
  extraRequestName,
  prepareExtraRequest,
  type ExtraRequest,
} from "./extra-request.js";
import type { CandidateReply, GateContext } from "./gate-context.js";
import type { DeepGateOptions } from "./gate-options.js";
import type { ExchangeSummary, GateCheck, GateResult } from "./gate-result.js";
import type { GateSignatures, SignatureSource } from "./gate-signature.js";
import { describeExchangeError, isListenerOutage } from "./exchange-error.js";
import { compareGolden, loadGoldenCases, type GoldenCase } from "./golden-requests.js";
import { checkLatencyBudget } from "./latency-budget.js";
import {
  grpcExchange,
  restExchange,
  systemClock,
  type Clock,
  type Exchange,
  type ExchangeTarget,
} from "./predict-exchange.js";
import type { PreparedRequest } from "./prepared-request.js";
import { compareSignatures } from "./signature-compat.js";
import { diffAgainstStable } from "./stable-diff.js";
import { errorText, summarizeTensors } from "./summary.js";
import { synthesizeRequest } from "./synthesize-request.js";
import { replayWarmup } from "./warmup-replay.js";

export const DEFAULT_REQUEST_DEADLINE_MS = 10_000;
export const DEFAULT_SIGNATURE = "serving_default";

/** dtypes TF Serving's REST API can convert (facts §5); others get HTTP 501, so REST is skipped for them. */
const REST_DTYPES = new Set([
  "DT_FLOAT",
  "DT_DOUBLE",
  "DT_INT32",
  "DT_INT16",
  "DT_INT8",
  "DT_UINT8",
  "DT_STRING",
  "DT_INT64",
  "DT_BOOL",
  "DT_UINT32",
  "DT_UINT64",
]);

export interface SmokeGateOptions extends DeepGateOptions {
  /** Each Predict must answer within this (default 10 s). The REST client's own timeoutMs should match it. */
  requestDeadlineMs?: number;
  /** Signatures to synthesise requests for (default ["serving_default"]); stable compatibility covers them too. */
  signatures?: string[];
  /** Let a breaking signature change pass (the changes are still listed). */
  allowBreakingSignature?: boolean;
  /** Let the gate pass when serving_default cannot be synthesised and no extra request covers it. */
  allowUnsynthesizable?: boolean;
  extraRequests?: ExtraRequest[];
}

export interface SmokeGateInput {
  model: string;
  /** The candidate, as a decimal int64 string. */
  version: string;
  /** The version `stable` names now, if any: its signature is the compatibility reference. */
  stableVersion?: string;
  grpc: Pick<TfServingGrpcClient, "predict">;
  rest?: Pick<RestClient, "predict">;
  signatureSource: SignatureSource;
  /** The candidate's version directory, where warmup replay finds assets.extra/tf_serving_warmup_requests. */
  candidateDir?: string;
  /** Send the candidate's requests by this label (the bake probe: `stable`); replies must come from `version`. */
  label?: string;
  options?: SmokeGateOptions;
  clock?: Clock;
}

interface Run {
  input: SmokeGateInput;
  target: ExchangeTarget;
  checks: GateCheck[];
  failingExchange?: { request: ExchangeSummary; response: ExchangeSummary };
  replies: CandidateReply[];
  stableSignatures?: GateSignatures;
}

export async function runSmokeGate(input: SmokeGateInput): Promise<GateResult> {
  const clock = input.clock ?? systemClock;
  const started = clock.now();
  const options = input.options ?? {};
  const run: Run = {
    input,
    target: {
      model: input.model,
      version: input.version,
      deadlineMs: options.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS,
      clock,
      ...(input.label === undefined ? {} : { label: input.label }),
    },
    checks: [],
    replies: [],
  };
  const candidate = await readSignatures(run, input.version, "candidate");
  if (candidate) {
    const gated = options.signatures ?? [DEFAULT_SIGNATURE];
    if (input.stableVersion !== undefined)
      await checkCompatibility(run, candidate, input.stableVersion, gated);
    for (const name of gated) await checkSynthesised(run, candidate, name);
    for (const [index, extra] of (options.extraRequests ?? []).entries())
      await checkExtraRequest(run, candidate, extra, index);
    await runDeepChecks(run, candidate, options);
  }
  const result: GateResult = {
    passed: run.checks.every((c) => c.passed),
    checks: run.checks,
    durationMs: clock.now() - started,
  };
  if (run.failingExchange) result.failingExchange = run.failingExchange;
  return result;
}

async function readSignatures(run: Run, version: string, role: string): Promise<GateSignatures | undefined> {
  const source = run.input.signatureSource;
  try {
    return await source.signatures(version);
  } catch (error) {
    run.checks.push({
      name: `${role} signatures`,
      passed: false,
      detail: `cannot read the signatures of ${role} version ${version} (${source.describe}): ${errorText(error)}`,
    });
    return undefined;
  }
}

async function checkCompatibility(
  run: Run,
  candidate: GateSignatures,
  stableVersion: string,
  gated: readonly string[],
): Promise<void> {
  const stable = await readSignatures(run, stableVersion, "stable");
  if (!stable) return;
  run.stableSignatures = stable;
  const changes = gated.flatMap((name) =>
    stable[name] === undefined ? [] : compareSignatures(name, stable[name], candidate[name]),
  );
  const breaking = changes.filter((c) => c.breaking);
  const allowed = run.input.options?.allowBreakingSignature === true;
  const listed = changes
    .map((c) => `${c.signature}: ${c.detail}${c.breaking ? " (breaking)" : ""}`)
    .join("; ");
  run.checks.push({
    name: `signature compatibility with stable ${stableVersion}`,
    passed: breaking.length === 0 || allowed,
    detail:
      changes.length === 0
        ? `inputs and outputs of ${gated.join(", ")} match stable`
        : breaking.length === 0
          ? `compatible changes: ${listed}`
          : `${breaking.length} breaking change(s)${allowed ? ", allowed by allowBreakingSignature" : " (set allowBreakingSignature to accept them)"}: ${listed}`,
    numbers: { changes: changes.length, breaking: breaking.length },
    changes,
  });
}

function gateContext(run: Run, candidate: GateSignatures): GateContext {
  const { input } = run;
  const ctx: GateContext = {
    grpc: input.grpc,
    candidate: run.target,
    candidateSignatures: candidate,
    checks: run.checks,
    replies: run.replies,
    noteFailure: (request, exchange, target) => {
      run.failingExchange ??= summarizeExchange(target, request, exchange);
    },
  };
  if (input.stableVersion !== undefined) {
    const { label: _byNumber, ...byNumber } = run.target;
    ctx.stable = { ...byNumber, version: input.stableVersion };
  }
  if (run.stableSignatures) ctx.stableSignatures = run.stableSignatures;
  return ctx;
}

async function runDeepChecks(run: Run, candidate: GateSignatures, options: DeepGateOptions): Promise<void> {
  if (options.golden) await checkGolden(run, candidate, options.golden);
  const ctx = gateContext(run, candidate);
  if (run.input.candidateDir !== undefined && options.warmupReplay !== false)
    await replayWarmup(ctx, run.input.candidateDir, options.warmupReplay);
  if (options.stableDiff && ctx.stable) await diffAgainstStable(ctx, options.stableDiff);
  if (options.latency) await checkLatencyBudget(ctx, options.latency);
}

async function checkGolden(
  run: Run,
  candidate: GateSignatures,
  golden: NonNullable<DeepGateOptions["golden"]>,
): Promise<void> {
  let cases: GoldenCase[];
  try {
    cases = loadGoldenCases(golden, candidate);
  } catch (error) {
    run.checks.push({
      name: "golden requests",
      passed: false,
      detail: `bad golden request: ${errorText(error)}`,
    });
    return;
  }
  for (const golden of cases) {
    const { request } = golden;
    const signature = candidate[request.signature];
    const checkName = `golden ${request.signature} (${request.label})`;
    if (signature === undefined) {
      run.checks.push({
        name: checkName,
        passed: false,
        detail: `the candidate has no signature "${request.signature}" (it has: ${Object.keys(candidate).join(", ") || "none"})`,
      });
      continue;
    }
    await sendEverywhere(run, checkName, request, Object.keys(signature.outputs), (exchange) => {
      const outputs = exchange.outputs ?? {};
      const shape = checkOutputs(signature.outputs, outputs, request.batch);
      const compared = compareGolden(golden, outputs);
      return {
        problems: [...shape.problems, ...compared.problems],
        numbers: { ...compared.numbers, nonFinite: shape.nonFinite },
      };
    });
  }
}

async function checkSynthesised(run: Run, candidate: GateSignatures, name: string): Promise<void> {
  const checkName = `predict ${name} (synthesised)`;
  const signature = candidate[name];
  if (signature === undefined) {
    run.checks.push({
      name: checkName,
      passed: false,
      detail: `the candidate has no signature "${name}" (it has: ${Object.keys(candidate).join(", ") || "none"})`,
    });
    return;
  }
  const synthesis = synthesizeRequest(name, signature);
  if (!synthesis.ok) {
    const coveredByExtra = (run.input.options?.extraRequests ?? []).some(
      (e) => (e.signature ?? DEFAULT_SIGNATURE) === name,
    );
    const mayPass = name !== DEFAULT_SIGNATURE || coveredByExtra || run.input.options?.allowUnsynthesizable;
    run.checks.push({
      name: checkName,
      passed: Boolean(mayPass),
      detail: mayPass
        ? `skipped: ${synthesis.reason}${coveredByExtra ? "; covered by configured extra requests" : ""}`
        : `cannot synthesise a request for ${name}: ${synthesis.reason}; the gate fails closed (configure an extra request for it, or allowUnsynthesizable)`,
      skipped: synthesis.reason,
    });
    return;
  }
  await sendEverywhere(run, checkName, synthesis.request, Object.keys(signature.outputs), (exchange) =>
    checkOutputs(signature.outputs, exchange.outputs ?? {}, synthesis.request.batch),
  );
}

async function checkExtraRequest(
  run: Run,
  candidate: GateSignatures,
  extra: ExtraRequest,
  index: number,
): Promise<void> {
  const label = extraRequestName(extra, index);
  const signatureName = extra.signature ?? DEFAULT_SIGNATURE;
  const checkName = `predict ${signatureName} (${label})`;
  const signature = candidate[signatureName];
  let request: PreparedRequest;
  try {
    request = prepareExtraRequest(extra, index, signature);
  } catch (error) {
    run.checks.push({ name: checkName, passed: false, detail: `bad extra request: ${errorText(error)}` });
    return;
  }
  await sendEverywhere(run, checkName, request, Object.keys(signature!.outputs), (exchange) => {
    const outputs = exchange.outputs ?? {};
    const shape = checkOutputs(signature!.outputs, outputs, request.batch);
    const expected = compareExpected(extra.expected ?? {}, outputs, extra.tolerance);
    return {
      problems: [...shape.problems, ...expected.problems],
      numbers: { compared: expected.compared, maxAbsDiff: expected.maxAbsDiff, nonFinite: shape.nonFinite },
    };
  });
}

type Evaluate = (exchange: Exchange) => {
  problems: string[];
  numbers?: Record<string, number>;
  nonFinite?: number;
  outputsChecked?: number;
};

async function sendEverywhere(
  run: Run,
  checkName: string,
  request: PreparedRequest,
  declaredOutputs: string[],
  evaluate: Evaluate,
): Promise<void> {
  const grpcReply = await grpcExchange(run.input.grpc, run.target, request);
  if (record(run, `${checkName} over gRPC`, request, grpcReply, evaluate))
    run.replies.push({ request, exchange: grpcReply });
  const rest = run.input.rest;
  if (!rest) return;
  const unconvertible = Object.entries(request.inputs).find(([, t]) => !REST_DTYPES.has(t.dtype));
  if (unconvertible) {
    const reason = `input "${unconvertible[0]}" is ${unconvertible[1].dtype}, which TF Serving's REST API cannot convert`;
    run.checks.push({
      name: `${checkName} over REST`,
      passed: true,
      detail: `skipped: ${reason}`,
      skipped: reason,
    });
    return;
  }
  record(
    run,
    `${checkName} over REST`,
    request,
    await restExchange(rest, run.target, request, declaredOutputs),
    evaluate,
  );
}

/** Adds the exchange's check; true when it passed. */
function record(
  run: Run,
  name: string,
  request: PreparedRequest,
  exchange: Exchange,
  evaluate: Evaluate,
): boolean {
  const { deadlineMs } = run.target;
  const problems: string[] = [];
  const numbers: Record<string, number> = { latencyMs: Math.round(exchange.elapsedMs * 10) / 10 };
  if (exchange.error !== undefined) {
    problems.push(describeExchangeError(exchange.error, deadlineMs));
  } else {
    if (exchange.elapsedMs > deadlineMs)
      problems.push(
        `the answer took ${Math.round(exchange.elapsedMs)} ms, beyond the ${deadlineMs} ms deadline`,
      );
    if (exchange.transport === "grpc" && exchange.replyVersion !== run.target.version)
      problems.push(
        `the reply came from version ${exchange.replyVersion ?? "(none)"}, not the candidate ${run.target.version}`,
      );
    const verdict = evaluate(exchange);
    problems.push(...verdict.problems);
    Object.assign(numbers, verdict.numbers ?? {});
    if (verdict.nonFinite !== undefined) numbers.nonFinite = verdict.nonFinite;
    if (verdict.outputsChecked !== undefined) numbers.outputs = verdict.outputsChecked;
  }
  const passed = problems.length === 0;
  run.checks.push({
    name,
    passed,
    detail: passed
      ? `version ${run.target.version} answered in ${numbers.latencyMs} ms; outputs keep the signature's promises`
      : problems.join("; "),
    numbers,
    ...(exchange.error !== undefined && isListenerOutage(exchange.error) ? { unreachable: true } : {}),
  });
  if (!passed && !run.failingExchange) run.failingExchange = summarizeExchange(run.target, request, exchange);
  return passed;
}

function summarizeExchange(
  target: ExchangeTarget,
  request: PreparedRequest,
  exchange: Exchange,
): { request: ExchangeSummary; response: ExchangeSummary } {
  const response: ExchangeSummary = { elapsedMs: Math.round(exchange.elapsedMs) };
  if (exchange.error !== undefined) response.error = errorText(exchange.error);
  if (exchange.replyVersion !== undefined) response.version = exchange.replyVersion;
  if (exchange.outputs) {
    const decoded = Object.fromEntries(
      Object.entries(exchange.outputs).filter(([, t]) => !(t instanceof Error)),
    ) as Parameters<typeof summarizeTensors>[0];
    response.outputs = summarizeTensors(decoded);
  }
  return {
    request: {
      transport: exchange.transport,
      model: target.model,
      version: target.version,
      signature: request.signature,
      request: request.label,
      inputs: summarizeTensors(request.inputs),
    },
    response,
  };
}
