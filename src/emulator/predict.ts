// Predict on one loaded version: TF Serving's signature lookup and request checks (facts §5), the "variables were
// never restored" failure (facts §4), then the outputs the version's behaviour dictates (behaviour.ts).
import type { TensorProtoObject } from "../tensor/codec.js";
import {
  checkPredictRequest,
  decodeInputs,
  runPredict as runBehaviour,
  type Behaviour,
} from "./behaviour.js";
import { ServingError, type SignatureDefPlain } from "./serving-api.js";

export const DEFAULT_SIGNATURE = "serving_default";

export interface PredictTarget {
  versionDir: string;
  signatureDefs: Record<string, SignatureDefPlain>;
  behaviour: Behaviour;
  /** The graph has variables but variables/ was missing at load: every run fails (facts §4). */
  uninitialized: boolean;
}

export interface PredictInput {
  inputs?: Record<string, Record<string, unknown>>;
  output_filter?: string[];
}

/** The signature a request names (empty = serving_default), or gRPC Predict's FAILED_PRECONDITION. */
export function signatureFor(
  target: PredictTarget,
  requested: string | undefined,
): [string, SignatureDefPlain] {
  const name = requested || DEFAULT_SIGNATURE;
  const signature = target.signatureDefs[name];
  if (!signature) throw new ServingError("FAILED_PRECONDITION", `Serving signature key "${name}" not found.`);
  return [name, signature];
}

/** Runs one checked Predict; outputs by alias. */
export async function runPredict(
  target: PredictTarget,
  request: PredictInput,
  signature: SignatureDefPlain,
): Promise<Record<string, TensorProtoObject>> {
  const inputs = (request.inputs ?? {}) as Record<string, TensorProtoObject>;
  checkPredictRequest(signature, inputs, request.output_filter);
  decodeInputs(inputs);
  if (target.uninitialized) {
    // TF names the variable; without the graph we name the op behind the first output, stable per model.
    const first = Object.keys(signature.outputs).sort()[0];
    const op = (first ? signature.outputs[first]?.name : undefined)?.replace(/:\d+$/, "") || "variable";
    throw new ServingError(
      "FAILED_PRECONDITION",
      `Attempting to use uninitialized value ${op}\n\t [[{{node ${op}/read}}]]`,
    );
  }
  return runBehaviour(target.behaviour, signature, inputs, request.output_filter);
}
