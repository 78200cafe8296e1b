/**
 * One health probe of `stable` during its bake period: GetModelStatus says the version is AVAILABLE, then the
 * gate's requests (synthesised, configured and golden ones, and the latency budget's absolute bounds when
 * configured) are sent BY THE LABEL, as clients send them, and every reply must come from the baked version and
 * keep the gate's promises. Warmup replay, the stable diff, the signature contract and latency ratios need a
 * second version and are left to the gate. TF Serving unreachable (either listener the probe used, see
 * listener-outage.ts) proves nothing: the probe is inconclusive and never rolls back.
 */
import type { ModelConfigView } from "../daemon-config/types.js";
import type { GateCheck, GateResult } from "../gate/gate-result.js";
import type { SmokeGateOptions } from "../gate/smoke-gate.js";
import { runSmokeGate } from "../gate/smoke-gate.js";
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { buildSmokeGateInput } from "./gate-input.js";
import { probeOutage } from "./listener-outage.js";
import { observeStatus } from "./observe.js";

export interface BakeProbeTarget {
  model: string;
  version: string;
  label: string;
  settings: ModelConfigView;
}

export interface BakeProbeClients {
  grpc: TfServingGrpcClient;
  rest?: RestClient;
}

export type BakeProbeResult =
  | { outcome: "passed"; reason: string; result: GateResult }
  | { outcome: "failed"; reason: string; result: GateResult }
  | { outcome: "inconclusive"; reason: string };

export type BakeProbe = (target: BakeProbeTarget) => Promise<BakeProbeResult>;

/** The gate options a probe runs with: what needs only the baked version. */
export function probeOptions(options: SmokeGateOptions | undefined): SmokeGateOptions {
  const { stableDiff: _diff, latency, ...rest } = options ?? {};
  const probe: SmokeGateOptions = { ...rest, warmupReplay: false };
  if (latency && (latency.p50Ms !== undefined || latency.p99Ms !== undefined)) {
    const { maxP50VsStable: _p50, maxP99VsStable: _p99, ...absolute } = latency;
    probe.latency = absolute;
  }
  return probe;
}

export function bakeProbe(clients: BakeProbeClients): BakeProbe {
  return async (target) => {
    const status = await observeStatus(clients.grpc, target.model);
    if (status.kind === "unreachable")
      return { outcome: "inconclusive", reason: `TF Serving is unreachable: ${status.reason}` };
    const seen = status.versions.find((s) => s.version === target.version);
    const statusCheck: GateCheck = {
      name: `status of ${target.label} ${target.version}`,
      passed: seen?.state === "AVAILABLE",
      detail:
        seen === undefined
          ? `GetModelStatus does not list version ${target.version}`
          : seen.state === "AVAILABLE"
            ? "AVAILABLE"
            : `${seen.state}${seen.error_message ? ` (${seen.error_code}: ${seen.error_message})` : ""}`,
    };
    const input = buildSmokeGateInput({
      model: target.model,
      version: target.version,
      grpc: clients.grpc,
      ...(clients.rest ? { rest: clients.rest } : {}),
      settings: target.settings,
    });
    const gated = await runSmokeGate({ ...input, label: target.label, options: probeOptions(input.options) });
    const result: GateResult = {
      ...gated,
      passed: statusCheck.passed && gated.passed,
      checks: [statusCheck, ...gated.checks],
    };
    if (!result.passed) {
      const rest = input.rest === undefined ? undefined : clients.rest;
      const outage = await probeOutage(
        { grpc: clients.grpc, ...(rest ? { rest } : {}) },
        target.model,
        result,
      );
      if (outage !== undefined)
        return {
          outcome: "inconclusive",
          reason: `TF Serving became unreachable during the probe: ${outage}`,
        };
    }
    if (result.passed) return { outcome: "passed", reason: `${result.checks.length} checks passed`, result };
    const failed = result.checks.filter((c) => !c.passed);
    return { outcome: "failed", reason: failed.map((c) => `${c.name}: ${c.detail}`).join("; "), result };
  };
}
