// Output checks: presence, dtype, shape against the declaration and the request's batch, finiteness.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkOutputs, shapeProblem } from "../src/gate/check-response.js";
import type { TensorSpec } from "../src/gate/gate-signature.js";

const declared: Record<string, TensorSpec> = {
  probs: { dtype: "DT_FLOAT", shape: [-1, 3], encoding: "name" },
  ids: { dtype: "DT_INT64", shape: [-1], encoding: "name" },
  anything: { dtype: "DT_STRING", shape: null, encoding: "name" },
};
const good = {
  probs: { dtype: "DT_FLOAT", shape: [2, 3], values: [0.1, 0.2, 0.7, 0.3, 0.3, 0.4] },
  ids: { dtype: "DT_INT64", shape: [2], values: [1n, 2n] },
  anything: { dtype: "DT_STRING", shape: [1, 1, 1], values: [Buffer.from("x")] },
};

test("a reply that keeps every promise has no problems", () => {
  assert.deepEqual(checkOutputs(declared, good, 2), { problems: [], nonFinite: 0, outputsChecked: 3 });
});

test("missing, undecodable and mistyped outputs are each reported", () => {
  const { problems } = checkOutputs(
    declared,
    { probs: new Error("tensor_content is 3 bytes"), ids: { ...good.ids, dtype: "DT_INT32" } },
    2,
  );
  assert.deepEqual(problems, [
    'declared output "anything" is missing from the reply',
    'output "ids" has dtype DT_INT32; the signature declares DT_INT64',
    'output "probs" cannot be decoded: tensor_content is 3 bytes',
  ]);
});

test("shapes: rank and known dims must match, unknown dims are free except the batch", () => {
  assert.equal(shapeProblem("y", [-1, 3], [5, 3], undefined), undefined);
  assert.equal(shapeProblem("y", null, [1, 2, 3], 2), undefined);
  assert.match(shapeProblem("y", [-1, 3], [2], 2)!, /rank 1; the signature declares rank 2/);
  assert.match(shapeProblem("y", [-1, 3], [2, 4], 2)!, /declares dimension 1 as 3/);
  assert.match(shapeProblem("y", [-1, 3], [1, 3], 2)!, /batch dimension 1 .* the request's batch is 2/);
  assert.equal(shapeProblem("y", [1, 3], [1, 3], 2), undefined, "a fixed first dim is not a batch dim");
});

test("NaN and ±Infinity in floating-point outputs are counted and fail", () => {
  const result = checkOutputs(
    { y: declared.probs! },
    { y: { dtype: "DT_FLOAT", shape: [1, 3], values: [1, NaN, -Infinity] } },
    1,
  );
  assert.equal(result.nonFinite, 2);
  assert.deepEqual(result.problems, ['output "y" has 2 non-finite value(s) of 3 (first: NaN at index 1)']);
});

test("REST replies (no dtype) are checked for the kind of JSON value the dtype allows", () => {
  const json = {
    probs: { shape: [1, 3], values: [0.5, 1, 2] },
    ids: { shape: [1], values: [2.5] },
    anything: { shape: [1], values: [{ b64: "eA==" }] },
  };
  assert.deepEqual(checkOutputs(declared, json, 1).problems, [
    'output "ids" value 0 is "2.5", not a DT_INT64 value',
  ]);
  const bigInts = { ...json, ids: { shape: [2], values: [9007199254740993n, 1] } };
  assert.deepEqual(checkOutputs(declared, bigInts, undefined).problems, []);
});
