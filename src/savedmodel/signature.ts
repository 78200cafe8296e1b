import { enumType } from "../proto/registry.js";

/** One input or output of a signature, as a person (or `--json`) wants to see it. */
export interface TensorSpec {
  /** DataType name; `*_REF` kinds are reported as their base type (DT_FLOAT_REF → DT_FLOAT). */
  dtype: string;
  /** -1 for an unknown dimension, [] for a scalar, null when the rank is unknown or no shape was saved. */
  shape: number[] | null;
  /** Graph tensor name (for coo_sparse: the values tensor); absent for composite tensors. */
  name?: string;
  /** How the tensor is encoded in TensorInfo. */
  encoding: "name" | "coo_sparse" | "composite_tensor" | "none";
  cooSparse?: { values: string; indices: string; denseShape: string };
  /** For composite tensors: the components, in order. */
  components?: TensorSpec[];
}

export interface SignatureInfo {
  /** e.g. "tensorflow/serving/predict"; "" when unset (e.g. `__saved_model_init_op`). */
  method: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
}

type Plain = Record<string, unknown>;

const REF_OFFSET = 100;

/** DataType name of a canonical enum value (name string, or number when protobufjs did not know it). */
export function dtypeName(value: unknown): string {
  const dataType = enumType("tensorflow.DataType");
  let number: number;
  if (value === undefined) number = 0;
  else if (typeof value === "number") number = value;
  else if (typeof value === "string") {
    const known = dataType.values[value];
    if (known === undefined) return value;
    number = known;
  } else return String(value);
  if (number > REF_OFFSET) number -= REF_OFFSET;
  return dataType.valuesById[number] ?? `DT_UNKNOWN_${number}`;
}

/** Shape from a canonical TensorShapeProto (or undefined when the field is absent). */
export function shapeOf(shape: Plain | undefined): number[] | null {
  if (shape === undefined || shape.unknown_rank === true) return null;
  const dims = (shape.dim as Plain[] | undefined) ?? [];
  return dims.map((dim) => Number(dim.size ?? 0));
}

export function tensorSpecOf(info: Plain): TensorSpec {
  const spec: TensorSpec = {
    dtype: dtypeName(info.dtype),
    shape: shapeOf(info.tensor_shape as Plain | undefined),
    encoding: "none",
  };
  if (typeof info.name === "string") {
    spec.encoding = "name";
    spec.name = info.name;
  } else if (info.coo_sparse !== undefined) {
    const coo = info.coo_sparse as Plain;
    spec.encoding = "coo_sparse";
    spec.name = String(coo.values_tensor_name ?? "");
    spec.cooSparse = {
      values: String(coo.values_tensor_name ?? ""),
      indices: String(coo.indices_tensor_name ?? ""),
      denseShape: String(coo.dense_shape_tensor_name ?? ""),
    };
  } else if (info.composite_tensor !== undefined) {
    const composite = info.composite_tensor as Plain;
    spec.encoding = "composite_tensor";
    spec.components = ((composite.components as Plain[] | undefined) ?? []).map(tensorSpecOf);
  }
  return spec;
}

function tensorMap(map: unknown): Record<string, TensorSpec> {
  const out: Record<string, TensorSpec> = {};
  for (const [alias, info] of Object.entries((map as Record<string, Plain> | undefined) ?? {})) {
    out[alias] = tensorSpecOf(info);
  }
  return out;
}

/** SignatureInfo from a canonical `tensorflow.SignatureDef` plain object. */
export function signatureOf(def: Plain): SignatureInfo {
  return {
    method: typeof def.method_name === "string" ? def.method_name : "",
    inputs: tensorMap(def.inputs),
    outputs: tensorMap(def.outputs),
  };
}
