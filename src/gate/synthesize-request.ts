// The request the gate sends when a model has no configuration: built from the candidate's own signature.
// Unknown dimensions become small sizes (the first, by TF convention the batch, becomes SYNTH_BATCH, any other
// SYNTH_DIM), an unknown rank becomes a rank-1 tensor, and values are deterministic and of the declared dtype:
// floats 0.5, 1, 1.5, 2, ...; integers 1, 2, 3, 4, ...; int64 as exact bigint; bools alternate; strings "a".
import type { TensorValue } from "../tensor/codec.js";
import type { GateSignature, TensorSpec } from "./gate-signature.js";
import { batchOf, type PreparedRequest, type PreparedTensor } from "./prepared-request.js";

export const SYNTH_BATCH = 2;
export const SYNTH_DIM = 3;
/** Beyond this many elements per input a synthesised request is not a smoke test any more. */
export const SYNTH_MAX_ELEMENTS = 1 << 24;

export type Synthesis = { ok: true; request: PreparedRequest } | { ok: false; reason: string };

const FLOATS = new Set(["DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"]);
const INTS = new Set(["DT_INT8", "DT_UINT8", "DT_INT16", "DT_UINT16", "DT_INT32", "DT_UINT32"]);
const INT64S = new Set(["DT_INT64", "DT_UINT64"]);

/** Input aliases that, as DT_STRING, hold serialized tf.Example protos (Estimator parsing receivers). */
const EXAMPLE_ALIASES = new Set(["examples", "inputs", "input_example_tensor"]);

function valueAt(dtype: string, i: number): TensorValue | undefined {
  const step = (i % 4) + 1;
  if (FLOATS.has(dtype)) return step * 0.5;
  if (INTS.has(dtype)) return step;
  if (INT64S.has(dtype)) return BigInt(step);
  if (dtype === "DT_BOOL") return i % 2 === 0;
  if (dtype === "DT_STRING") return Buffer.from("a");
  return undefined;
}

function concreteShape(spec: TensorSpec): number[] {
  if (spec.shape === null) return [SYNTH_BATCH];
  return spec.shape.map((dim, axis) => (dim >= 0 ? dim : axis === 0 ? SYNTH_BATCH : SYNTH_DIM));
}

function synthesizeInput(alias: string, spec: TensorSpec): PreparedTensor | string {
  if (spec.encoding === "coo_sparse" || spec.encoding === "composite_tensor")
    return `input "${alias}" is a ${spec.encoding.replace("_", " ")} input, which the gate cannot synthesise`;
  if (spec.dtype === "DT_STRING" && EXAMPLE_ALIASES.has(alias))
    return `input "${alias}" is DT_STRING named like a serialized tf.Example input; a made-up string would not parse`;
  if (valueAt(spec.dtype, 0) === undefined)
    return `input "${alias}" has dtype ${spec.dtype}, for which the gate has no synthetic values`;
  const shape = concreteShape(spec);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > SYNTH_MAX_ELEMENTS)
    return `input "${alias}" would need ${count} elements (shape [${shape.join(", ")}]), more than ${SYNTH_MAX_ELEMENTS}`;
  const values = Array.from({ length: count }, (_, i) => valueAt(spec.dtype, i)!);
  return { dtype: spec.dtype, shape, values };
}

/** A request for `signatureName`, or the reason none can be made (then the signature is skipped). */
export function synthesizeRequest(signatureName: string, signature: GateSignature): Synthesis {
  if (/\/(classify|regress)$/.test(signature.method))
    return {
      ok: false,
      reason: `method ${signature.method} takes serialized tf.Example protos, which the gate cannot synthesise`,
    };
  if (signature.method === "")
    return {
      ok: false,
      reason: "it has no method_name (e.g. __saved_model_init_op): not a serving signature",
    };
  const inputs: Record<string, PreparedTensor> = {};
  for (const [alias, spec] of Object.entries(signature.inputs).sort(([a], [b]) => a.localeCompare(b))) {
    const input = synthesizeInput(alias, spec);
    if (typeof input === "string") return { ok: false, reason: input };
    inputs[alias] = input;
  }
  return {
    ok: true,
    request: { label: "synthesised", signature: signatureName, inputs, batch: batchOf(inputs) },
  };
}
