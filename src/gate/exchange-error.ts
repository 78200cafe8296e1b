// One line for a Predict that failed at the transport or on the server, naming a missed deadline as such.
import { GrpcCallError, GrpcUnreachableError } from "../tfserving/grpc-errors.js";
import { TfServingHttpError } from "../tfserving/rest-client.js";
import { UnreachableError } from "../errors.js";
import { RestDeadlineError } from "./predict-exchange.js";
import { errorText } from "./summary.js";

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
