// Signature sources: the SavedModel on disk (pb and pbtxt, defaults kept, tag-set rule) and the served map.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { gateSignatureOf, readGateSignatures, savedModelSignatures } from "../src/gate/gate-signature.js";
import { messageType } from "../src/proto/registry.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { printTextFormat } from "../src/textformat/print.js";
import { tempDir } from "./helpers/emulator-harness.js";

const tmp = tempDir("tfs-gate-signature-");
after(() => tmp.cleanup());

const tensorInfo = (dtype: string, dims: number[]) => ({
  dtype,
  tensor_shape: { dim: dims.map((size) => ({ size: String(size) })) },
  name: "t:0",
});

function savedModel(tags: string[]) {
  return {
    saved_model_schema_version: "1",
    meta_graphs: [
      {
        meta_info_def: { tags: ["other"] },
        signature_def: { serving_default: { method_name: "tensorflow/serving/predict" } },
      },
      {
        meta_info_def: { tags },
        signature_def: {
          serving_default: {
            method_name: "tensorflow/serving/predict",
            inputs: { x: tensorInfo("DT_FLOAT", [-1, 1]), temperature: tensorInfo("DT_FLOAT", []) },
            outputs: { y: tensorInfo("DT_FLOAT_REF", [-1, 1]) },
            defaults: { temperature: encodeTensor(1.5, { dtype: "DT_FLOAT", shape: [] }) },
          },
        },
      },
    ],
  };
}

function writePb(dir: string, tags: string[]): void {
  mkdirSync(dir, { recursive: true });
  const type = messageType("tensorflow.SavedModel");
  writeFileSync(join(dir, "saved_model.pb"), type.encode(type.fromObject(savedModel(tags))).finish());
}

test("saved_model.pb: signatures of the meta graph whose tag set matches, with defaults and _REF stripped", () => {
  const dir = join(tmp.dir, "pb", "1");
  writePb(dir, ["serve"]);
  const signatures = readGateSignatures(dir);
  assert.deepEqual(Object.keys(signatures), ["serving_default"]);
  const def = signatures.serving_default!;
  assert.deepEqual(def.defaults, ["temperature"]);
  assert.equal(def.outputs.y?.dtype, "DT_FLOAT");
  assert.deepEqual(def.inputs.x?.shape, [-1, 1]);
  assert.deepEqual(def.inputs.temperature?.shape, []);
});

test("saved_model.pbtxt: the same, through the text-format parser", () => {
  const dir = join(tmp.dir, "pbtxt", "1");
  mkdirSync(dir, { recursive: true });
  const type = messageType("tensorflow.SavedModel");
  writeFileSync(
    join(dir, "saved_model.pbtxt"),
    printTextFormat(
      type.toObject(type.fromObject(savedModel(["serve", "gpu"])), { longs: String, enums: String }),
      type,
    ),
  );
  assert.deepEqual(readGateSignatures(dir, ["gpu", "serve"]).serving_default?.defaults, ["temperature"]);
});

test("a version directory without a SavedModel is an error naming it; the source passes it on", async () => {
  const source = savedModelSignatures((v) => join(tmp.dir, "nothing", v));
  await assert.rejects(source.signatures("3"), /Could not find SavedModel .pb or .pbtxt .*nothing\/3/);
  assert.match(source.describe, /on disk/);
});

test("a served SignatureDef (canonical plain object) keeps its defaults keys", () => {
  const signature = gateSignatureOf({
    method_name: "tensorflow/serving/predict",
    inputs: { a: tensorInfo("DT_INT64", [-1]) },
    outputs: {},
    defaults: { b: {}, a: {} },
  });
  assert.deepEqual(signature.defaults, ["a", "b"]);
  assert.equal(signature.inputs.a?.dtype, "DT_INT64");
  assert.deepEqual(gateSignatureOf({ method_name: "" }).defaults, []);
});
