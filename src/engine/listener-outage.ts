/**
 * After a probe (gate or bake probe) failed: was it TF Serving, not the version? TF Serving has two listeners,
 * and one can be down while the other answers (a crashed HTTP server thread, a firewall rule, a proxy in front
 * of one port). A failed Predict over a listener that is down proves nothing about the candidate, so the probe
 * must neither pass (a half answer never promotes) nor fail (a good version is never rejected or rolled back for
 * an outage): it is inconclusive and runs again once both answer. Two signs, either is enough:
 * - every failed check is a Predict that got no answer because its listener was down (GateCheck.unreachable);
 * - asked about the MODEL (not the version) right after, a listener the probe used is down (unreachable, or gRPC
 *   UNAVAILABLE / HTTP 503).
 * The first one matters when the outage ends between the failed Predict and the question.
 */
import type { GateResult } from "../gate/gate-result.js";
import { errorText } from "../gate/summary.js";
import { UnreachableError } from "../errors.js";
import { TfServingHttpError, type RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { observeStatus } from "./observe.js";

export interface ProbeListeners {
  grpc: Pick<TfServingGrpcClient, "getModelStatus">;
  /** Only when the probe sent requests over REST too. */
  rest?: Pick<RestClient, "modelStatus">;
}

/** Why the failed `result` proves nothing about the version, or undefined when it is a real failure. */
export async function probeOutage(
  listeners: ProbeListeners,
  model: string,
  result: GateResult,
): Promise<string | undefined> {
  const failed = result.checks.filter((c) => !c.passed);
  if (failed.length > 0 && failed.every((c) => c.unreachable === true))
    return failed.map((c) => `${c.name}: ${c.detail}`).join("; ");
  return listenerOutage(listeners, model);
}

/** Why a listener the probe used is down now, or undefined when both answer. */
export async function listenerOutage(listeners: ProbeListeners, model: string): Promise<string | undefined> {
  const status = await observeStatus(listeners.grpc, model);
  if (status.kind === "unreachable") return `gRPC: ${status.reason}`;
  if (listeners.rest === undefined) return undefined;
  try {
    await listeners.rest.modelStatus(model);
  } catch (error) {
    if (error instanceof UnreachableError) return `REST: ${errorText(error)}`;
    if (error instanceof TfServingHttpError && error.httpStatus === 503) return `REST: ${errorText(error)}`;
  }
  return undefined;
}
