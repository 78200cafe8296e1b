// One line for a Predict that failed at the transport or on the server, naming a missed deadline as such.
import { GrpcCallError, GrpcUnreachableError } from "../tfserving/grpc-errors.js";
import { TfServingHttpError } from "../tfserving/rest-client.js";
import { UnreachableError } from "../errors.js";
import { RestDeadlineError } from "./predict-exchange.js";
import { errorText } from "./summary.js";

/**
 * A failure that says TF Serving's listener is down, not that the version misbehaved: gRPC UNAVAILABLE (or a
 * deadline that expired before the channel was ever ready), HTTP 503, or a REST connection refused or reset. A
 * timeout on a live connection is NOT one: a slow version is the version's fault.
 */
export function isListenerOutage(error: unknown): boolean {
  if (error instanceof GrpcUnreachableError) return true;
  if (error instanceof TfServingHttpError) return error.httpStatus === 503;
  if (error instanceof RestDeadlineError) return false;
  return error instanceof UnreachableError && (error.cause as Error | undefined)?.name !== "TimeoutError";
}

export function describeExchangeError(error: unknown, deadlineMs: number): string {
  if (error instanceof GrpcCallError || error instanceof GrpcUnreachableError) {
    if (error.grpcCodeName === "DEADLINE_EXCEEDED")
      return `no answer within the ${deadlineMs} ms deadline (gRPC DEADLINE_EXCEEDED)`;
    return `Predict failed: ${error.grpcCodeName}: ${errorText(error.grpcMessage)}`;
  }
  if (error instanceof TfServingHttpError)
    return `Predict failed: HTTP ${error.httpStatus}: ${errorText(error.serverMessage ?? error.message)}`;
  if (error instanceof RestDeadlineError) return `${error.message} (REST)`;
  if (error instanceof UnreachableError && /did not answer/.test(error.message))
    return `no answer within the REST client's timeout: ${errorText(error)}`;
  return `Predict failed: ${errorText(error)}`;
}
