/** ModelVersionStatus.State names (get_model_status.proto). */
export const MODEL_VERSION_STATES = ["UNKNOWN", "START", "LOADING", "AVAILABLE", "UNLOADING", "END"] as const;
export type ModelVersionState = (typeof MODEL_VERSION_STATES)[number];

/** One version of a model as GetModelStatus reports it, with proto3 defaults filled in. */
export interface VersionStatus {
  /** int64 as an exact decimal string. */
  version: string;
  state: ModelVersionState;
  /** tensorflow.error.Code name; "OK" unless a load failed. */
  error_code: string;
  error_message: string;
}

/** GetModelStatusResponse in canonical plain-object form (unset fields absent). */
export interface GetModelStatusResponseObject {
  model_version_status?: Array<{
    version?: string;
    state?: string;
    status?: { error_code?: string; error_message?: string };
  }>;
}

/** Flattens a GetModelStatusResponse, keeping TF Serving's order (descending versions). */
export function versionStatuses(response: GetModelStatusResponseObject): VersionStatus[] {
  return (response.model_version_status ?? []).map((s) => ({
    version: s.version ?? "0",
    state: toState(s.state),
    error_code: s.status?.error_code ?? "OK",
    error_message: s.status?.error_message ?? "",
  }));
}

function toState(state: string | undefined): ModelVersionState {
  // An unknown number from a newer server decodes as its number; report it as UNKNOWN rather than lie.
  return (MODEL_VERSION_STATES as readonly string[]).includes(state ?? "")
    ? (state as ModelVersionState)
    : "UNKNOWN";
}
