/**
 * Observation for the controller: this model's entry in models.config and TF Serving's GetModelStatus become the
 * ObservedState; the admission scan, the journaled ControllerRecord and the pending CLI intents become the
 * DesiredState. Reading TF Serving never guesses: any failure other than "model unknown" is "unreachable" (plan
 * then waits), and the reason says what was tried.
 */
import { basename } from "node:path";
import type { ModelScan } from "../admission/scanner.js";
import type {
  ControllerRecord,
  DesiredState,
  DiskVersion,
  InFlightStep,
  Intent,
  ObservedModelConfig,
  ObservedPolicy,
  ObservedStatus,
} from "../controller/types.js";
import { compareVersions } from "../controller/versions.js";
import { errorText } from "../gate/summary.js";
import type { ModelConfigObject, ModelServerConfigObject } from "../modelconfig/validate.js";
import { GrpcCallError } from "../tfserving/grpc-errors.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";

export function findModel(config: ModelServerConfigObject, model: string): ModelConfigObject | undefined {
  return (config.model_config_list?.config ?? []).find((m) => m.name === model);
}

export function modelNames(config: ModelServerConfigObject): string[] {
  return (config.model_config_list?.config ?? []).map((m) => m.name ?? "").filter((n) => n !== "");
}

export function observedModelConfig(entry: ModelConfigObject | undefined): ObservedModelConfig | undefined {
  if (entry === undefined) return undefined;
  return {
    basePath: entry.base_path ?? "",
    platform: entry.model_platform ?? "",
    policy: observedPolicy(entry),
    labels: { ...entry.version_labels },
  };
}

function observedPolicy(entry: ModelConfigObject): ObservedPolicy {
  const policy = entry.model_version_policy;
  if (policy?.specific) return { kind: "specific", versions: [...(policy.specific.versions ?? [])] };
  if (policy?.all) return { kind: "all" };
  return { kind: "latest", numVersions: Math.max(policy?.latest?.num_versions ?? 1, 1) };
}

/** GetModelStatus as the controller sees it. NOT_FOUND (TF Serving has not picked the model up yet) is "no versions". */
export async function observeStatus(
  grpc: Pick<TfServingGrpcClient, "getModelStatus">,
  model: string,
): Promise<ObservedStatus> {
  try {
    return { kind: "reachable", versions: await grpc.getModelStatus(model) };
  } catch (error) {
    if (error instanceof GrpcCallError && error.grpcCodeName === "NOT_FOUND")
      return { kind: "reachable", versions: [] };
    return { kind: "unreachable", reason: errorText(error) };
  }
}

/** The admission scan as the controller's disk list. */
export function diskVersions(scan: ModelScan | undefined): DiskVersion[] {
  return (scan?.versions ?? []).map((v) => ({
    version: v.version,
    dirName: basename(v.path),
    admission: v.admission,
  }));
}

/** Versions whose fate is settled: the scanner need not read them again. */
export function settledVersions(record: ControllerRecord): Set<string> {
  const settled = new Set<string>();
  for (const [version, v] of Object.entries(record.verdicts)) {
    if (v.verdict !== "candidate") settled.add(version);
  }
  return settled;
}

/**
 * The versions admission need not read (ScanOptions.settled): those with a final verdict, and those at or below
 * `stable` (they can never become candidates), except versions an operator names (pin, rollback or promotion
 * target, pending or under way), whose completeness decides whether the intent is refused. Without the second rule
 * a store with thousands of old versions had each of them re-checked, watched and re-timed as "pending" forever.
 */
export function admissionSettled(
  record: ControllerRecord,
  stable: string | undefined,
  intents: readonly Intent[],
): { has(version: string): boolean } {
  const verdicts = settledVersions(record);
  const named = new Set<string>();
  for (const v of [record.pin?.version, record.rollback?.target, record.promote?.version])
    if (v) named.add(v);
  for (const intent of intents) {
    if (intent.kind === "rollback" && intent.to !== undefined) named.add(intent.to);
    if ((intent.kind === "promote" || intent.kind === "pin") && intent.version !== undefined)
      named.add(intent.version);
  }
  return {
    has: (v) => verdicts.has(v) || (stable !== undefined && !named.has(v) && compareVersions(v, stable) <= 0),
  };
}

export function desiredState(
  model: string,
  record: ControllerRecord,
  disk: DiskVersion[],
  intents: Intent[],
  inFlight: InFlightStep | undefined,
): DesiredState {
  return {
    ...structuredClone(record),
    model,
    disk,
    intents,
    ...(inFlight === undefined ? {} : { inFlight }),
  };
}
