/**
 * Steps that ask TF Serving without changing its config: await-available (poll GetModelStatus until AVAILABLE, END
 * or the step's deadline), gate (the smoke gate) and verify (GetModelMetadata by label: the reply's
 * model_spec.version says where the label resolves; GetModelStatus ignores labels). A stop request aborts the
 * wait with StepAborted: the step stays in flight in the journal and plan() re-plans it on the next start.
 */
import { isAbsolute, join } from "node:path";
import type { StepOutcome } from "../controller/outcome.js";
import type { ProbeStep } from "../controller/types.js";
import type { ModelConfigView } from "../daemon-config/types.js";
import type { GateResult } from "../gate/gate-result.js";
import { runSmokeGate } from "../gate/smoke-gate.js";
import { journalGateResult } from "../gate/journal-form.js";
import { errorText } from "../gate/summary.js";
import type { JsonValue, VerdictStore } from "../state/store.js";
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { UnreachableError } from "../errors.js";
import { gateLogDetails, gateReason } from "./gate-report.js";
import { buildSmokeGateInput } from "./gate-input.js";
import type { EngineLogger } from "./logger.js";
import { probeOutage } from "./listener-outage.js";

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
  /** Gate reports go into the version's verdict record too (absent: journal only). */
  verdicts?: Pick<VerdictStore, "get" | "put">;
  log?: Pick<EngineLogger, "warn">;
}

export interface ProbeResult {
  outcome: StepOutcome;
  details?: Record<string, unknown>;
}

export async function applyProbe(
  deps: ProbeDeps,
  step: ProbeStep,
  settings: ModelConfigView,
  where: ProbeWhere = {},
): Promise<ProbeResult> {
  switch (step.kind) {
    case "await-available":
      return { outcome: await awaitAvailable(deps, step) };
    case "gate":
      return gate(deps, step, settings, where);
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
  where: ProbeWhere,
): Promise<ProbeResult> {
  const candidateDir = versionDir(where, step.version);
  const input = buildSmokeGateInput({
    model: step.model,
    version: step.version,
    ...(step.stable === undefined ? {} : { stable: step.stable }),
    grpc: deps.grpc,
    ...(deps.rest ? { rest: deps.rest } : {}),
    settings,
    ...(candidateDir === undefined ? {} : { candidateDir }),
  });
  const result: GateResult = await runSmokeGate(input);
  if (!result.passed) {
    const rest = input.rest === undefined ? undefined : deps.rest;
    const outage = await probeOutage({ grpc: deps.grpc, ...(rest ? { rest } : {}) }, step.model, result);
    if (outage !== undefined)
      throw new StepInterrupted(
        `TF Serving became unreachable during the gate of ${step.version}: ${outage}`,
      );
  }
  const report = journalGateResult(result);
  await storeGateReport(deps, step, report);
  return {
    outcome: {
      ok: result.passed,
      reason: gateReason(result),
      report: report as unknown as Record<string, unknown>,
    },
    details: gateLogDetails(result),
  };
}

/** The verdict store's `gate` field of the version (`tfs-rollout status`/`history` show it). */
async function storeGateReport(
  deps: ProbeDeps,
  step: Extract<ProbeStep, { kind: "gate" }>,
  report: GateResult,
): Promise<void> {
  if (deps.verdicts === undefined) return;
  const gate = JSON.parse(JSON.stringify(report)) as JsonValue;
  try {
    const current = await deps.verdicts.get(step.model, step.version);
    await deps.verdicts.put(
      current === undefined
        ? {
            model: step.model,
            version: step.version,
            verdict: "candidate",
            reason: `gated (${report.passed ? "passed" : "failed"})`,
            at: new Date(deps.now()).toISOString(),
            by: "daemon",
            gate,
          }
        : { ...current, gate },
    );
  } catch (error) {
    // The journal holds the report too; a verdict store hiccup must not decide the gate.
    deps.log?.warn(
      { model: step.model, version: step.version, reason: errorText(error) },
      "could not store the gate report in the verdict store",
    );
  }
}

/** Where the probe's version directories are: the model's base path and the directory names on disk. */
export interface ProbeWhere {
  basePath?: string;
  dirNames?: ReadonlyMap<string, string>;
}

/** The local directory of a version, when base_path is a local path (warmup replay reads it). */
function versionDir(where: ProbeWhere, version: string): string | undefined {
  const dirName = where.dirNames?.get(version);
  if (where.basePath === undefined || dirName === undefined) return undefined;
  if (!isAbsolute(where.basePath) || where.basePath.includes("://")) return undefined;
  return join(where.basePath, dirName);
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
