// The synthesised request: small sizes for unknown dims, deterministic values of the right dtype, stated skips.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GateSignature, TensorSpec } from "../src/gate/gate-signature.js";
import { grpcInputs, restInputs } from "../src/gate/prepared-request.js";
import { synthesizeRequest } from "../src/gate/synthesize-request.js";
import { decodeTensor } from "../src/tensor/codec.js";

const spec = (
  dtype: string,
  shape: number[] | null,
  encoding: TensorSpec["encoding"] = "name",
): TensorSpec => ({
  dtype,
  shape,
  encoding,
});
const predict = (inputs: Record<string, TensorSpec>): GateSignature => ({
  method: "tensorflow/serving/predict",
  inputs,
  outputs: {},
  defaults: [],
});

function synthesized(inputs: Record<string, TensorSpec>) {
  const result = synthesizeRequest("serving_default", predict(inputs));
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.request;
}

test("unknown batch becomes 2, other unknown dims 3, unknown rank a rank-1 tensor, scalars stay scalars", () => {
  const request = synthesized({
    image: spec("DT_FLOAT", [-1, 4, -1]),
    any: spec("DT_INT32", null),
    scale: spec("DT_DOUBLE", []),
  });
  assert.deepEqual(request.inputs.image?.shape, [2, 4, 3]);
  assert.deepEqual(request.inputs.any?.shape, [2]);
  assert.deepEqual(request.inputs.scale?.shape, []);
  assert.equal(request.batch, undefined, "a scalar input means there is no shared batch dimension");
  assert.deepEqual(synthesized({ a: spec("DT_FLOAT", [-1, 2]), b: spec("DT_INT32", null) }).batch, 2);
});

test("values are deterministic and of the declared dtype; int64 stays exact through the encoder", () => {
  const request = synthesized({
    f: spec("DT_FLOAT", [5]),
    i: spec("DT_UINT8", [5]),
    l: spec("DT_INT64", [2]),
    b: spec("DT_BOOL", [3]),
    s: spec("DT_STRING", [1]),
    h: spec("DT_HALF", [2]),
  });
  assert.deepEqual(request.inputs.f?.values, [0.5, 1, 1.5, 2, 0.5]);
  assert.deepEqual(request.inputs.i?.values, [1, 2, 3, 4, 1]);
  assert.deepEqual(request.inputs.l?.values, [1n, 2n]);
  assert.deepEqual(request.inputs.b?.values, [true, false, true]);
  assert.deepEqual(request.inputs.s?.values, [Buffer.from("a")]);
  assert.deepEqual(synthesized({ f: spec("DT_FLOAT", [5]) }), synthesized({ f: spec("DT_FLOAT", [5]) }));
  const protos = grpcInputs(request);
  assert.deepEqual(protos.l?.int64_val, ["1", "2"]);
  assert.deepEqual(decodeTensor(protos.h!).values, [0.5, 1]);
  assert.deepEqual(restInputs(request).l, [1n, 2n]);
  assert.deepEqual(restInputs(request).b, [true, false, true]);
});

test("signatures whose inputs cannot be synthesised are refused with the reason", () => {
  const reasons = [
    synthesizeRequest("c", {
      ...predict({ inputs: spec("DT_STRING", null) }),
      method: "tensorflow/serving/classify",
    }),
    synthesizeRequest("p", predict({ examples: spec("DT_STRING", [-1]) })),
    synthesizeRequest("p", predict({ sp: spec("DT_FLOAT", [-1], "coo_sparse") })),
    synthesizeRequest("p", predict({ r: spec("DT_RESOURCE", []) })),
    synthesizeRequest("p", predict({ big: spec("DT_FLOAT", [-1, 100000, 1000]) })),
    synthesizeRequest("__saved_model_init_op", { ...predict({}), method: "" }),
  ].map((r) => (r.ok ? "ok" : r.reason));
  assert.match(reasons[0]!, /tensorflow\/serving\/classify takes serialized tf.Example/);
  assert.match(reasons[1]!, /input "examples" is DT_STRING named like a serialized tf.Example/);
  assert.match(reasons[2]!, /coo sparse input/);
  assert.match(reasons[3]!, /dtype DT_RESOURCE/);
  assert.match(reasons[4]!, /200000000 elements/);
  assert.match(reasons[5]!, /no method_name/);
});

test("a signature without inputs gets an empty request", () => {
  const request = synthesized({});
  assert.deepEqual(request.inputs, {});
  assert.equal(request.batch, undefined);
});
