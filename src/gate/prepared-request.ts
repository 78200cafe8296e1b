// One request the gate sends, independent of transport: per input alias a dtype, a concrete shape and flat
// row-major values. Encoded to a TensorProto map for gRPC and to columnar JSON for REST.
import { encodeTensor, nestByShape, type TensorProtoObject, type TensorValue } from "../tensor/codec.js";

export interface PreparedTensor {
  /** Base DataType name, e.g. "DT_FLOAT". */
  dtype: string;
  shape: number[];
  values: TensorValue[];
}

export interface PreparedRequest {
  /** What the request is called in check names and logs, e.g. "synthesised" or an extra request's name. */
  label: string;
  signature: string;
  inputs: Record<string, PreparedTensor>;
  /** The batch size every input shares as its first dimension; undefined when they do not share one. */
  batch: number | undefined;
}

/** The common first dimension of all inputs, if every input has rank ≥ 1 and they agree. */
export function batchOf(inputs: Record<string, PreparedTensor>): number | undefined {
  const firsts = Object.values(inputs).map((t) => (t.shape.length > 0 ? t.shape[0] : undefined));
  if (firsts.length === 0 || firsts.some((d) => d === undefined)) return undefined;
  return firsts.every((d) => d === firsts[0]) ? firsts[0] : undefined;
}

export function grpcInputs(request: PreparedRequest): Record<string, TensorProtoObject> {
  return Object.fromEntries(
    Object.entries(request.inputs).map(([alias, t]) => [
      alias,
      encodeTensor(t.values, { dtype: t.dtype, shape: t.shape, where: `input "${alias}"` }),
    ]),
  );
}

/** Columnar REST form `{"inputs": {alias: nested}}`: bigint stays exact, Buffers go out as {"b64": ...}. */
export function restInputs(request: PreparedRequest): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(request.inputs).map(([alias, t]) => [alias, nestByShape(t.values, t.shape)]),
  );
}
