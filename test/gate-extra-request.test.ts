// Extra requests: values checked against the dtype when prepared, expected outputs compared within tolerance.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareExpected, prepareExtraRequest } from "../src/gate/extra-request.js";
import type { GateSignature } from "../src/gate/gate-signature.js";

const signature: GateSignature = {
  method: "tensorflow/serving/predict",
  inputs: {
    x: { dtype: "DT_FLOAT", shape: [-1, 1], encoding: "name" },
    id: { dtype: "DT_INT64", shape: [-1], encoding: "name" },
  },
  outputs: {},
  defaults: [],
};

test("inputs take the signature's dtype (or the override), int64 exact from strings", () => {
  const request = prepareExtraRequest(
    { inputs: { x: [[1], [2]], id: ["9223372036854775807", 1] }, dtypes: { x: "double" } },
    0,
    signature,
  );
  assert.equal(request.label, "extra #1");
  assert.equal(request.signature, "serving_default");
  assert.equal(request.inputs.x?.dtype, "DT_DOUBLE");
  assert.deepEqual(request.inputs.x?.shape, [2, 1]);
  assert.deepEqual(request.inputs.id?.values, [9223372036854775807n, 1n]);
  assert.equal(request.batch, 2);
});

test("bad extra requests are UsageErrors naming the request, the input and the fix", () => {
  assert.throws(
    () => prepareExtraRequest({ name: "r", inputs: { x: [["a"]] } }, 0, signature),
    (e: Error & { where?: string }) =>
      /not a valid DT_FLOAT value/.test(e.message) && /"r" input "x"/.test(e.where ?? ""),
  );
  assert.throws(
    () => prepareExtraRequest({ inputs: { q: [1] } }, 1, signature),
    /input "q" is not in signature/,
  );
  assert.throws(
    () => prepareExtraRequest({ signature: "nope", inputs: {} }, 1, undefined),
    /signature "nope" does not exist/,
  );
  assert.throws(
    () => prepareExtraRequest({ inputs: { x: [[1], [2, 3]] } }, 0, signature),
    /ragged|values\[1\]/i,
  );
});

test("expected values: default tolerance is tight, absolute and relative widen it", () => {
  const observed = { y: { dtype: "DT_FLOAT", shape: [2], values: [100.5, 3] } };
  assert.deepEqual(compareExpected({ y: [100.5, 3] }, observed).problems, []);
  const off = compareExpected({ y: [100, 3] }, observed);
  assert.equal(off.maxAbsDiff, 0.5);
  assert.equal(off.compared, 2);
  assert.match(
    off.problems[0]!,
    /value 0 is 100\.5, expected 100 \(tolerance: absolute 0\.000001, relative 0\.000001\)$/,
  );
  assert.deepEqual(compareExpected({ y: [100, 3] }, observed, { relative: 0.01 }).problems, []);
  assert.deepEqual(compareExpected({ y: [100, 3] }, observed, { absolute: 0.5 }).problems, []);
  assert.equal(compareExpected({ y: [100, 3] }, observed, { absolute: 0.49 }).problems.length, 1);
});

test("shape, missing outputs, NaN, int64 and strings compare exactly", () => {
  const observed = {
    y: { dtype: "DT_FLOAT", shape: [1, 2], values: [NaN, 1] },
    id: { dtype: "DT_INT64", shape: [1], values: [9007199254740993n] },
    s: { dtype: "DT_STRING", shape: [1], values: [Buffer.from("cat")] },
  };
  assert.deepEqual(
    compareExpected({ y: [[NaN, 1]], id: ["9007199254740993"], s: ["cat"] }, observed).problems,
    [],
  );
  assert.deepEqual(
    compareExpected({ y: [NaN, 1], id: ["9007199254740992"], s: ["dog"], z: [1] }, observed).problems,
    [
      'output "y" has shape [1, 2]; expected [2]',
      'output "id" value 0 is 9007199254740993, expected 9007199254740992',
      'output "s" value 0 is cat, expected dog',
      'expected output "z" is not in the reply',
    ],
  );
});
