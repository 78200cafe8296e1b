import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { RolloutError, UnreachableError } from "../errors.js";

/** "FAILED_PRECONDITION" for 9; TF Serving's absl codes equal the gRPC codes. */
export function grpcCodeName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

export interface GrpcFailure {
  grpcCode: number;
  grpcCodeName: string;
  /** The status message exactly as sent (TF Serving cuts at 1024 chars with "...TRUNCATED"; kept as is). */
  grpcMessage: string;
  address: string;
  /** e.g. "ModelService/HandleReloadConfigRequest". */
  method: string;
}

/** A call that reached TF Serving (or failed on the client after connecting) and ended with a non-OK status. */
export class GrpcCallError extends RolloutError implements GrpcFailure {
  readonly grpcCode: number;
  readonly grpcCodeName: string;
  readonly grpcMessage: string;
  readonly address: string;
  readonly method: string;

  constructor(failure: GrpcFailure, options: { hint?: string; cause?: unknown } = {}) {
    super(failureMessage(failure), { where: failure.address, ...options });
    this.grpcCode = failure.grpcCode;
    this.grpcCodeName = failure.grpcCodeName;
    this.grpcMessage = failure.grpcMessage;
    this.address = failure.address;
    this.method = failure.method;
  }
}

/** TF Serving could not be reached over gRPC (exit code 3); still carries the status it failed with. */
export class GrpcUnreachableError extends UnreachableError implements GrpcFailure {
  readonly grpcCode: number;
  readonly grpcCodeName: string;
  readonly grpcMessage: string;
  readonly address: string;
  readonly method: string;
  /** How many calls were made before giving up. */
  readonly attempts: number;

  constructor(failure: GrpcFailure, attempts: number, options: { cause?: unknown } = {}) {
    super(`${failureMessage(failure)} (TF Serving unreachable after ${attempts} attempt(s))`, {
      where: failure.address,
      hint:
        `check that TF Serving is running and that ${failure.address} is its gRPC address ` +
        `(tensorflow_model_server --port, default 8500; it listens on IPv4 0.0.0.0, so use 127.0.0.1, not ::1)`,
      ...options,
    });
    this.grpcCode = failure.grpcCode;
    this.grpcCodeName = failure.grpcCodeName;
    this.grpcMessage = failure.grpcMessage;
    this.address = failure.address;
    this.method = failure.method;
    this.attempts = attempts;
  }
}

function failureMessage(f: GrpcFailure): string {
  return `${f.method} failed: ${f.grpcCodeName} (${f.grpcCode}): ${f.grpcMessage}`;
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}

/**
 * Whether the failure means the request never got to TF Serving: UNAVAILABLE, or a deadline that expired while
 * the channel was still connecting.
 */
export function isUnreachable(error: ServiceError, channelWasReady: boolean): boolean {
  if (error.code === GrpcStatus.UNAVAILABLE) return true;
  return error.code === GrpcStatus.DEADLINE_EXCEEDED && !channelWasReady;
}

const RELOAD_HINTS: Partial<Record<number, string>> = {
  [GrpcStatus.FAILED_PRECONDITION]:
    "the whole config was discarded; a version label may only point to an AVAILABLE version: reload with the " +
    "version in the policy first, wait until GetModelStatus reports AVAILABLE, then move the label",
  [GrpcStatus.UNKNOWN]:
    "the config was still applied even though a new model failed to load; check GetModelStatus before retrying",
};

const HINTS: Partial<Record<number, string>> = {
  [GrpcStatus.DEADLINE_EXCEEDED]:
    "TF Serving did not answer in time; a reload that adds a new model blocks until it loads (or forever for a " +
    "base_path without numeric version directories); raise the deadline or check the server log",
  [GrpcStatus.FAILED_PRECONDITION]: "TF Serving refused the request in its current state; see the message",
  [GrpcStatus.NOT_FOUND]: "check the model name and version against GetModelStatus",
  [GrpcStatus.INVALID_ARGUMENT]: "the request was rejected as malformed; see the message for the field",
  [GrpcStatus.RESOURCE_EXHAUSTED]:
    "a message exceeded a size limit; raise maxReceiveMessageLength (the client default is 64 MiB)",
  [GrpcStatus.UNIMPLEMENTED]: "this TF Serving build does not offer the method; check its version",
};

/** Turns a grpc-js failure into the project's typed error. */
export function toRolloutError(
  error: unknown,
  context: { address: string; method: string; channelWasReady: boolean; attempts: number },
): RolloutError {
  if (!isServiceError(error)) {
    if (error instanceof RolloutError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new RolloutError(`${context.method} failed: ${message}`, { where: context.address, cause: error });
  }
  const failure: GrpcFailure = {
    grpcCode: error.code,
    grpcCodeName: grpcCodeName(error.code),
    grpcMessage: error.details ?? error.message,
    address: context.address,
    method: context.method,
  };
  if (isUnreachable(error, context.channelWasReady))
    return new GrpcUnreachableError(failure, context.attempts, { cause: error });
  const hint =
    (context.method.endsWith("/HandleReloadConfigRequest") ? RELOAD_HINTS[error.code] : undefined) ??
    HINTS[error.code];
  return new GrpcCallError(failure, { hint, cause: error });
}
