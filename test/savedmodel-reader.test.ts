import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { messageType } from "../src/proto/registry.js";
import { encodeVarint, lengthDelimitedHeader } from "../src/savedmodel/proto-wire.js";
import { readSavedModel } from "../src/savedmodel/reader.js";
import { writeSavedModel, type SignatureToWrite } from "../src/savedmodel/writer.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

const predict: SignatureToWrite = {
  method: "tensorflow/serving/predict",
  inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
  outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
};

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "savedmodel-reader-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("reads tags and a predict signature with dtype, shape and tensor name", (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, { signatures: { serving_default: predict } });
  const model = readSavedModel(dir);
  assert.equal(model.format, "pb");
  assert.equal(model.schemaVersion, "1");
  assert.deepEqual(model.tags, ["serve"]);
  assert.deepEqual(model.signatures, {
    serving_default: {
      method: "tensorflow/serving/predict",
      inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0", encoding: "name" } },
      outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0", encoding: "name" } },
    },
  });
});

test("shapes: scalar [], unknown rank null, absent tensor_shape null; _REF dtypes map to the base type", (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, {
    signatures: {
      s: {
        inputs: {
          scalar: { dtype: "DT_INT64", shape: [], name: "a:0" },
          unknownRank: { dtype: "DT_STRING", shape: null, name: "b:0" },
          noShape: { dtype: "DT_FLOAT", name: "c:0" },
        },
        outputs: {
          ref: { dtype: 101, shape: [2, -1], name: "d:0" },
          refByName: { dtype: "DT_INT32_REF", name: "e:0" },
        },
      },
    },
  });
  const { inputs, outputs } = readSavedModel(dir).signatures.s!;
  assert.deepEqual(inputs.scalar!.shape, []);
  assert.equal(inputs.scalar!.dtype, "DT_INT64");
  assert.equal(inputs.unknownRank!.shape, null);
  assert.equal(inputs.noShape!.shape, null);
  assert.equal(outputs.ref!.dtype, "DT_FLOAT");
  assert.deepEqual(outputs.ref!.shape, [2, -1]);
  assert.equal(outputs.refByName!.dtype, "DT_INT32");
  assert.equal(readSavedModel(dir).signatures.s!.method, "");
});

test("coo_sparse and composite_tensor encodings are flagged", (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, {
    signatures: {
      s: {
        inputs: {
          sparse: {
            dtype: "DT_FLOAT",
            shape: [-1, 5],
            cooSparse: { values: "v:0", indices: "i:0", denseShape: "d:0" },
          },
        },
        outputs: {},
      },
    },
  });
  // composite_tensor is not in the writer's friendly form: patch the raw SignatureDef in through protobufjs.
  const type = messageType("tensorflow.MetaGraphDef");
  const metaGraph = type
    .encode(
      type.fromObject({
        meta_info_def: { tags: ["serve"] },
        signature_def: {
          c: {
            inputs: {
              rt: {
                composite_tensor: { components: [{ name: "values:0", dtype: "DT_INT32" }] },
                dtype: "DT_INVALID",
              },
            },
          },
        },
      }),
    )
    .finish();
  const composite = tempDir(t);
  writeFileSync(
    join(composite, "saved_model.pb"),
    Buffer.concat([lengthDelimitedHeader(2, metaGraph.length), metaGraph]),
  );
  assert.deepEqual(readSavedModel(dir).signatures.s!.inputs.sparse, {
    dtype: "DT_FLOAT",
    shape: [-1, 5],
    encoding: "coo_sparse",
    name: "v:0",
    cooSparse: { values: "v:0", indices: "i:0", denseShape: "d:0" },
  });
  assert.deepEqual(readSavedModel(composite).signatures.c!.inputs.rt, {
    dtype: "DT_INVALID",
    shape: null,
    encoding: "composite_tensor",
    components: [{ dtype: "DT_INT32", shape: null, encoding: "name", name: "values:0" }],
  });
});

test("the tag set must EQUAL the requested one; no match lists the tag sets present", (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, {
    metaGraphs: [
      { tags: ["serve", "gpu"], signatures: { gpu: predict } },
      { tags: ["train"], signatures: {} },
    ],
  });
  assert.throws(
    () => readSavedModel(dir),
    (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.match(error.message, /^Could not find meta graph def matching supplied tags: \{ serve \}\. /);
      assert.match(error.message, /Tag sets present: \{ serve gpu \}, \{ train \}$/);
      assert.equal(error.where, join(dir, "saved_model.pb"));
      return true;
    },
  );
  const gpu = readSavedModel(dir, { tags: ["gpu", "serve"] });
  assert.deepEqual(gpu.tags, ["serve", "gpu"]);
  assert.deepEqual(Object.keys(gpu.signatures), ["gpu"]);
  assert.deepEqual(gpu.availableTagSets, [["serve", "gpu"], ["train"]]);
});

test("a huge graph_def is skipped without being decoded, before or after the signatures", (t) => {
  const dir = tempDir(t);
  // Zero bytes are not a valid message (field number 0): decoding graph_def would fail.
  writeSavedModel(dir, { signatures: { serving_default: predict }, graphDefBytes: Buffer.alloc(3_000_000) });
  assert.deepEqual(readSavedModel(dir).signatures.serving_default!.inputs.x!.shape, [-1, 1]);

  // Signature first, then object_graph_def (7) at the end, then a second meta_info_def occurrence: order-free.
  const type = messageType("tensorflow.MetaGraphDef");
  const signatures = type.encode(type.fromObject({ signature_def: { s: { method_name: "m" } } })).finish();
  const info = type.encode(type.fromObject({ meta_info_def: { tags: ["serve"] } })).finish();
  const objectGraph = Buffer.concat([lengthDelimitedHeader(7, 1000), Buffer.alloc(1000)]);
  const metaGraph = Buffer.concat([signatures, objectGraph, info]);
  const reordered = tempDir(t);
  writeFileSync(
    join(reordered, "saved_model.pb"),
    Buffer.concat([lengthDelimitedHeader(2, metaGraph.length), metaGraph, encodeVarint(8), encodeVarint(1)]),
  );
  assert.deepEqual(readSavedModel(reordered).signatures, { s: { method: "m", inputs: {}, outputs: {} } });
});

test("a duplicated signature key keeps the last entry", (t) => {
  const dir = tempDir(t);
  const type = messageType("tensorflow.MetaGraphDef");
  const first = type
    .encode(
      type.fromObject({ meta_info_def: { tags: ["serve"] }, signature_def: { s: { method_name: "first" } } }),
    )
    .finish();
  const second = type.encode(type.fromObject({ signature_def: { s: { method_name: "second" } } })).finish();
  const metaGraph = Buffer.concat([first, second]);
  writeFileSync(
    join(dir, "saved_model.pb"),
    Buffer.concat([lengthDelimitedHeader(2, metaGraph.length), metaGraph]),
  );
  assert.equal(readSavedModel(dir).signatures.s!.method, "second");
});

test("a truncated saved_model.pb names the file and the byte offset", (t) => {
  const dir = tempDir(t);
  const path = writeSavedModel(dir, { signatures: { serving_default: predict } });
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length - 5));
  assert.throws(
    () => readSavedModel(dir),
    (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.equal(error.where, `${path}@2`);
      assert.match(error.message, /^corrupt SavedModel at byte offset 2: field 2 claims \d+ bytes/);
      return true;
    },
  );
});

test("no saved_model.pb nor .pbtxt: TF's wording with the directory", (t) => {
  const dir = tempDir(t);
  assert.throws(() => readSavedModel(dir), {
    message: `Could not find SavedModel .pb or .pbtxt at supplied export directory path: ${dir}`,
  });
});

const PBTXT = `saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" stripped_op_list { op { name: "Add" } } }
  graph_def { node { name: "x" op: "Placeholder" } }
  signature_def {
    key: "serving_default"
    value {
      inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } dim { size: 1 } } } }
      outputs { key: "y" value { name: "y:0" dtype: DT_FLOAT tensor_shape { unknown_rank: true } } }
      method_name: "tensorflow/serving/predict"
    }
  }
}
`;

test("saved_model.pbtxt is read when saved_model.pb is missing; a syntax error is located", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "saved_model.pbtxt"), PBTXT);
  const model = readSavedModel(dir);
  assert.equal(model.format, "pbtxt");
  assert.deepEqual(model.signatures.serving_default, {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0", encoding: "name" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: null, name: "y:0", encoding: "name" } },
  });
  writeFileSync(join(dir, "saved_model.pbtxt"), "meta_graphs {\n  meta_info_def { tags: }\n");
  assert.throws(
    () => readSavedModel(dir),
    (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, new RegExp(`^${join(dir, "saved_model.pbtxt").replace(/[.]/g, "\\.")}:2:`));
      return true;
    },
  );
});

const HALF_PLUS_TWO_SIGNATURES = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0", encoding: "name" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0", encoding: "name" } },
  },
};

function checkHalfPlusTwo(dir: string, expectClassifyX2: boolean): void {
  const model = readSavedModel(dir);
  assert.deepEqual(model.tags, ["serve"]);
  assert.deepEqual(model.signatures.serving_default, HALF_PLUS_TWO_SIGNATURES.serving_default);
  const names = Object.keys(model.signatures).sort();
  const expected = [
    "classify_x_to_y",
    "regress_x2_to_y3",
    "regress_x_to_y",
    "regress_x_to_y2",
    "serving_default",
  ];
  if (expectClassifyX2) expected.unshift("classify_x2_to_y3");
  assert.deepEqual(names, expected);
  const classify = model.signatures.classify_x_to_y!;
  assert.equal(classify.method, "tensorflow/serving/classify");
  assert.equal(classify.inputs.inputs!.dtype, "DT_STRING");
  assert.equal(classify.inputs.inputs!.shape, null);
  assert.equal(model.signatures.regress_x_to_y!.method, "tensorflow/serving/regress");
}

test("conformance: saved_model_half_plus_two_cpu/00000123 signatures", { skip: fixturesSkip() }, () => {
  checkHalfPlusTwo(join(TFSERVING_TESTDATA, "saved_model_half_plus_two_cpu", "00000123"), false);
});

test("conformance: both versions of saved_model_half_plus_two_2_versions", { skip: fixturesSkip() }, () => {
  for (const version of ["00000123", "00000124"]) {
    checkHalfPlusTwo(join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions", version), true);
  }
});
