// Signature compatibility: each kind of change is reported, and exactly the ones that break stable's clients
// are marked breaking.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GateSignature, TensorSpec } from "../src/gate/gate-signature.js";
import { compareSignatures } from "../src/gate/signature-compat.js";

const t = (dtype: string, shape: number[] | null): TensorSpec => ({ dtype, shape, encoding: "name" });
const sig = (
  inputs: Record<string, TensorSpec>,
  outputs: Record<string, TensorSpec> = { y: t("DT_FLOAT", [-1, 1]) },
  defaults: string[] = [],
): GateSignature => ({ method: "tensorflow/serving/predict", inputs, outputs, defaults });

const stable = sig({ x: t("DT_FLOAT", [-1, 3]), id: t("DT_INT64", [-1]) });

function changes(candidate: GateSignature | undefined): [string, string | undefined, boolean][] {
  return compareSignatures("serving_default", stable, candidate).map((c) => [c.kind, c.alias, c.breaking]);
}

test("an identical signature has no changes", () => {
  assert.deepEqual(changes(sig({ id: t("DT_INT64", [-1]), x: t("DT_FLOAT", [-1, 3]) })), []);
});

test("removed, renamed, retyped and re-ranked inputs are breaking", () => {
  assert.deepEqual(changes(sig({ x: t("DT_FLOAT", [-1, 3]) })), [["input-removed", "id", true]]);
  assert.deepEqual(changes(sig({ x: t("DT_FLOAT", [-1, 3]), key: t("DT_INT64", [-1]) })), [
    ["input-renamed", "key", true],
  ]);
  assert.deepEqual(changes(sig({ x: t("DT_DOUBLE", [-1, 3]), id: t("DT_INT64", [-1, 1]) })), [
    ["input-rank", "id", true],
    ["input-dtype", "x", true],
  ]);
  assert.deepEqual(changes(sig({ x: t("DT_FLOAT", [-1, 4]), id: t("DT_INT64", [-1]) })), [
    ["input-shape", "x", true],
  ]);
});

test("an added input breaks unless the signature has a default for it", () => {
  const inputs = { x: t("DT_FLOAT", [-1, 3]), id: t("DT_INT64", [-1]), temp: t("DT_FLOAT", []) };
  assert.deepEqual(changes(sig(inputs)), [["input-added", "temp", true]]);
  const withDefault = compareSignatures("serving_default", stable, sig(inputs, undefined, ["temp"]));
  assert.deepEqual(
    withDefault.map((c) => [c.kind, c.breaking]),
    [["input-added", false]],
  );
  assert.match(withDefault[0]!.detail, /input "temp" \(DT_FLOAT \[\]\) added, with a default value/);
});

test("inputs that accept more than before are compatible; ones that accept less are not", () => {
  assert.deepEqual(changes(sig({ x: t("DT_FLOAT", [-1, -1]), id: t("DT_INT64", null) })), [
    ["input-rank", "id", false],
    ["input-shape", "x", false],
  ]);
  const loose = sig({ x: t("DT_FLOAT", null) });
  assert.deepEqual(
    compareSignatures("s", loose, sig({ x: t("DT_FLOAT", [-1]) })).map((c) => [c.kind, c.breaking]),
    [["input-rank", true]],
  );
  const anyBatch = sig({ x: t("DT_FLOAT", [-1]) });
  assert.deepEqual(
    compareSignatures("s", anyBatch, sig({ x: t("DT_FLOAT", [8]) })).map((c) => [c.kind, c.breaking]),
    [["input-shape", true]],
  );
});

test("added outputs are fine; removed outputs and output dtype/rank/size changes break", () => {
  const inputs = { x: t("DT_FLOAT", [-1, 3]), id: t("DT_INT64", [-1]) };
  assert.deepEqual(changes(sig(inputs, { y: t("DT_FLOAT", [-1, 1]), z: t("DT_FLOAT", [-1]) })), [
    ["output-added", "z", false],
  ]);
  assert.deepEqual(changes(sig(inputs, {})), [["output-removed", "y", true]]);
  assert.deepEqual(changes(sig(inputs, { y: t("DT_INT32", [-1]) })), [
    ["output-dtype", "y", true],
    ["output-rank", "y", true],
  ]);
  assert.deepEqual(changes(sig(inputs, { y: t("DT_FLOAT", [-1, 2]) })), [["output-shape", "y", true]]);
  assert.deepEqual(changes(sig(inputs, { y: t("DT_FLOAT", [4, 1]) })), [["output-shape", "y", false]]);
});

test("a signature the candidate no longer has is one breaking change", () => {
  const [change] = compareSignatures("serving_default", stable, undefined);
  assert.deepEqual(
    [change?.kind, change?.breaking, change?.detail],
    ["signature-removed", true, 'signature "serving_default" removed'],
  );
});
