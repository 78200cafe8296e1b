// What the deeper checks (warmup replay, stable diff, latency budget) see of a gate run.
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import type { GateCheck } from "./gate-result.js";
import type { GateSignatures } from "./gate-signature.js";
import type { Exchange, ExchangeTarget } from "./predict-exchange.js";
import type { PreparedRequest } from "./prepared-request.js";

/** A request the candidate answered over gRPC without error, with its decoded outputs. */
export interface CandidateReply {
  request: PreparedRequest;
  exchange: Exchange;
}

export interface GateContext {
  grpc: Pick<TfServingGrpcClient, "predict">;
  candidate: ExchangeTarget;
  /** Stable by its version number, when there is a stable. */
  stable?: ExchangeTarget;
  candidateSignatures: GateSignatures;
  stableSignatures?: GateSignatures;
  checks: GateCheck[];
  /** Every successful candidate gRPC reply so far, in order: the requests the stable diff and latency reuse. */
  replies: CandidateReply[];
  /** Records the first failing exchange for GateResult.failingExchange. */
  noteFailure(request: PreparedRequest, exchange: Exchange, target: ExchangeTarget): void;
}
