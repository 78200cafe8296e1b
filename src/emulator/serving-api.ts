// The seam between the emulator's core (model manager, config, gRPC) and its REST and control front ends.
// All messages are in the project's canonical plain-object form (snake_case, int64 as decimal strings, enums by name).

/** A request-time failure with TF Serving's status code and exact message (facts sheet wording). */
export class ServingError extends Error {
  constructor(
    /** tensorflow.error.Code name, e.g. "NOT_FOUND", "INVALID_ARGUMENT", "FAILED_PRECONDITION". */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ServingError";
  }
}

export interface ModelSpecPlain {
  name: string;
  version?: { value: string };
  version_label?: string;
  signature_name?: string;
}

export interface ModelVersionStatusPlain {
  version: string;
  state: "UNKNOWN" | "START" | "LOADING" | "AVAILABLE" | "UNLOADING" | "END";
  status: { error_code: string; error_message: string };
}

export interface TensorInfoPlain {
  name?: string;
  dtype: string;
  tensor_shape?: { dim?: { size: string; name?: string }[]; unknown_rank?: boolean };
}

export interface SignatureDefPlain {
  inputs: Record<string, TensorInfoPlain>;
  outputs: Record<string, TensorInfoPlain>;
  method_name: string;
}

export interface PredictRequestPlain {
  model_spec: ModelSpecPlain;
  inputs: Record<string, Record<string, unknown>>;
  output_filter?: string[];
}

export interface PredictResponsePlain {
  model_spec: ModelSpecPlain;
  outputs: Record<string, Record<string, unknown>>;
}

/** What the REST front end needs from the core; every method throws ServingError like TF Serving would. */
export interface ServingApi {
  /** All versions ever seen (END kept), descending; `version` filters to one (NOT_FOUND if unknown). */
  modelStatus(name: string, version?: string): ModelVersionStatusPlain[];
  /** Resolves version/label/latest like Predict does; returns the resolved spec (numeric version) and signatures. */
  modelMetadata(spec: ModelSpecPlain): {
    model_spec: ModelSpecPlain;
    signature_def: Record<string, SignatureDefPlain>;
  };
  predict(request: PredictRequestPlain): Promise<PredictResponsePlain>;
}

/** One call received by the emulator, for tests to assert what the daemon actually sent. */
export interface CallRecord {
  at: number;
  transport: "grpc" | "rest";
  method: string;
  model?: string;
  version?: string;
  label?: string;
  /** For HandleReloadConfigRequest: the ModelServerConfig received. */
  config?: unknown;
  /** Result code name ("OK", "NOT_FOUND", ...). */
  code: string;
}
