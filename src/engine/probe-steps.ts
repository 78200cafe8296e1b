/**
 * Steps that ask TF Serving without changing its config: await-available (poll GetModelStatus until AVAILABLE, END
 * or the step's deadline), gate (the smoke gate) and verify (GetModelMetadata by label: the reply's
 * model_spec.version says where the label resolves; GetModelStatus ignores labels). A stop request aborts the
 * wait with StepAborted: the step stays in flight in the journal and plan() re-plans it on the next start.
 */
import type { StepOutcome } from "../controller/outcome.js";
import type { ProbeStep } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import type { GateResult } from "../gate/gate-result.js";
import { servedSignatures } from "../gate/gate-signature.js";
import { runSmokeGate } from "../gate/smoke-gate.js";
import { errorText } from "../gate/summary.js";
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { UnreachableError } from "../errors.js";
import { observeStatus } from "./observe.js";

export class StepAborted extends Error {
  constructor(what: string) {
    super(`${what} interrupted by a stop request; it stays in flight and is re-planned on restart`);
  }
}

/**
 * TF Serving stopped answering during a probe: the probe proves nothing either way, so it is neither passed nor
 * failed (a candidate is never rejected on a guess). The step is closed without effect and re-planned later.
 */
export class StepInterrupted extends Error {}

export interface ProbeDeps {
  grpc: TfServingGrpcClient;
  rest?: RestClient;
  now(): number;
  /** GetModelStatus polling interval while awaiting AVAILABLE (ms). */
  pollMs: number;
  signal?: AbortSignal;
}

export interface ProbeResult {
  outcome: StepOutcome;
  details?: Record<string, unknown>;
}

export async function applyProbe(
  deps: ProbeDeps,
  step: ProbeStep,
  settings: ModelConfigView,
): Promise<ProbeResult> {
  switch (step.kind) {
    case "await-available":
      return { outcome: await awaitAvailable(deps, step) };
    case "gate":
      return gate(deps, step, settings);
    case "verify":
      return { outcome: await verify(deps, step) };
  }
}

async function awaitAvailable(
  deps: ProbeDeps,
  step: Extract<ProbeStep, { kind: "await-available" }>,
): Promise<StepOutcome> {
  let last = "no status yet";
  for (;;) {
    if (deps.signal?.aborted)
      throw new StepAborted(`waiting for ${step.model} ${step.version} to be AVAILABLE`);
    try {
      const statuses = await deps.grpc.getModelStatus(step.model);
      const status = statuses.find((s) => s.version === step.version);
      if (status?.state === "AVAILABLE") return { ok: true, reason: "AVAILABLE" };
      if (status?.state === "END") {
        const why = status.error_message || "unloaded before it became AVAILABLE";
        return { ok: false, reason: `load failed (END, ${status.error_code}): ${why}` };
      }
      last = status === undefined ? "not listed by GetModelStatus" : status.state;
    } catch (error) {
      if (error instanceof UnreachableError)
        throw new StepInterrupted(
          `TF Serving became unreachable while waiting for ${step.version}: ${errorText(error)}`,
        );
      last = `GetModelStatus failed: ${errorText(error)}`;
    }
    const left = step.deadline - deps.now();
    if (left <= 0) return { ok: false, reason: `not AVAILABLE by the load deadline (last seen: ${last})` };
    await sleep(Math.min(deps.pollMs, left), deps.signal);
  }
}

async function gate(
  deps: ProbeDeps,
  step: Extract<ProbeStep, { kind: "gate" }>,
  settings: ModelConfigView,
): Promise<ProbeResult> {
  const g = settings.gate;
  const result: GateResult = await runSmokeGate({
    model: step.model,
    version: step.version,
    ...(step.stable === undefined ? {} : { stableVersion: step.stable }),
    grpc: deps.grpc,
    ...(g.use_rest && deps.rest ? { rest: deps.rest } : {}),
    signatureSource: servedSignatures(deps.grpc, step.model, g.request_deadline),
    options: {
      requestDeadlineMs: g.request_deadline,
      signatures: [g.signature_name],
      allowBreakingSignature: g.allow_breaking_signature,
      extraRequests: g.requests.map((r) => ({
        name: r.name,
        ...(r.signature_name === undefined ? {} : { signature: r.signature_name }),
        inputs: r.inputs,
        ...(r.expected_outputs === undefined ? {} : { expected: r.expected_outputs }),
        tolerance: r.tolerance,
      })),
    },
  });
  if (!result.passed) {
    const status = await observeStatus(deps.grpc, step.model);
    if (status.kind === "unreachable")
      throw new StepInterrupted(
        `TF Serving became unreachable during the gate of ${step.version}: ${status.reason}`,
      );
  }
  const failed = result.checks.filter((c) => !c.passed);
  const reason = result.passed
    ? `${result.checks.length} checks passed`
    : failed.map((c) => `${c.name}: ${c.detail}`).join("; ");
  return {
    outcome: { ok: result.passed, reason },
    details: {
      gate_duration_ms: result.durationMs,
      checks: result.checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail })),
      ...(result.failingExchange ? { failing_exchange: result.failingExchange } : {}),
    },
  };
}

async function verify(deps: ProbeDeps, step: Extract<ProbeStep, { kind: "verify" }>): Promise<StepOutcome> {
  try {
    const metadata = await deps.grpc.getModelMetadata(step.model, { label: step.label });
    const resolved = versionOf(metadata.model_spec);
    if (resolved === step.version) return { ok: true, reason: `${step.label} resolves to ${resolved}` };
    return {
      ok: false,
      reason: `${step.label} resolves to ${resolved ?? "no version"}, not ${step.version}`,
    };
  } catch (error) {
    if (error instanceof UnreachableError)
      throw new StepInterrupted(
        `TF Serving became unreachable while verifying ${step.label}: ${errorText(error)}`,
      );
    return { ok: false, reason: `GetModelMetadata by label ${step.label} failed: ${errorText(error)}` };
  }
}

function versionOf(spec: Record<string, unknown>): string | undefined {
  const v = spec.version as { value?: unknown } | undefined;
  return v?.value === undefined ? undefined : String(v.value);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
