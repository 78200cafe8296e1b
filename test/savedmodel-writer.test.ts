import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { messageType } from "../src/proto/registry.js";
import { bufferSource, walkFields } from "../src/savedmodel/proto-wire.js";
import { signatureDefObject, writeSavedModel } from "../src/savedmodel/writer.js";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "savedmodel-writer-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("writes a binary SavedModel that protobufjs decodes independently, starting 08 01 12 like real files", (t) => {
  const dir = tempDir(t);
  const path = writeSavedModel(dir, {
    tags: ["serve", "gpu"],
    signatures: {
      serving_default: {
        method: "tensorflow/serving/predict",
        inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
        outputs: { y: { dtype: "DT_FLOAT", shape: null, name: "y:0" } },
      },
    },
  });
  const bytes = readFileSync(path);
  assert.deepEqual([...bytes.subarray(0, 3)], [0x08, 0x01, 0x12]);
  const type = messageType("tensorflow.SavedModel");
  const plain = type.toObject(type.decode(bytes), { longs: String, enums: String });
  assert.deepEqual(plain, {
    saved_model_schema_version: "1",
    meta_graphs: [
      {
        meta_info_def: { tags: ["serve", "gpu"] },
        signature_def: {
          serving_default: {
            inputs: {
              x: { name: "x:0", dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }, { size: "1" }] } },
            },
            outputs: { y: { name: "y:0", dtype: "DT_FLOAT", tensor_shape: { unknown_rank: true } } },
            method_name: "tensorflow/serving/predict",
          },
        },
      },
    ],
  });
  assert.equal(existsSync(join(dir, "variables")), false);
});

test("graph_def bytes land verbatim as MetaGraphDef field 2, between meta_info_def and signature_def", (t) => {
  const dir = tempDir(t);
  const graphDef = Buffer.from("not really a GraphDef");
  const bytes = readFileSync(writeSavedModel(dir, { signatures: { s: {} }, graphDefBytes: graphDef }));
  const [, metaGraph] = [...walkFields(bufferSource(bytes))];
  assert.ok(metaGraph && metaGraph.wireType === 2);
  const fields = [...walkFields(bufferSource(bytes), metaGraph.start, metaGraph.end)];
  assert.deepEqual(
    fields.map((f) => f.field),
    [1, 2, 5],
  );
  const graph = fields[1]!;
  assert.ok(graph.wireType === 2);
  assert.deepEqual(bytes.subarray(graph.start, graph.end), graphDef);
});

test("a streamed graph_def is written chunk by chunk, the same bytes as a buffer; a wrong announced length throws", (t) => {
  const dir = tempDir(t);
  const chunks = [Buffer.from("first "), Buffer.from("second "), Buffer.from("third")];
  const stream = { length: 18, chunks: () => chunks };
  const streamed = readFileSync(
    writeSavedModel(join(dir, "a"), { signatures: { s: {} }, graphDefBytes: stream }),
  );
  const buffered = readFileSync(
    writeSavedModel(join(dir, "b"), { signatures: { s: {} }, graphDefBytes: Buffer.concat(chunks) }),
  );
  assert.deepEqual(streamed, buffered);
  assert.throws(
    () => writeSavedModel(join(dir, "c"), { graphDefBytes: { length: 99, chunks: () => chunks } }),
    /graph_def stream wrote 18 bytes, announced 99/,
  );
});

test("withVariables writes the variables/ files TF Serving looks for", (t) => {
  const dir = tempDir(t);
  writeSavedModel(dir, { signatures: {}, withVariables: true });
  assert.ok(existsSync(join(dir, "variables", "variables.index")));
  assert.ok(existsSync(join(dir, "variables", "variables.data-00000-of-00001")));
});

test("signatureDefObject leaves tensor_shape out when no shape is given and uses coo_sparse instead of name", () => {
  assert.deepEqual(
    signatureDefObject({
      inputs: {
        a: { dtype: "DT_STRING", name: "a:0" },
        b: { dtype: "DT_FLOAT", shape: [], cooSparse: { values: "v", indices: "i", denseShape: "d" } },
      },
    }),
    {
      inputs: {
        a: { dtype: "DT_STRING", name: "a:0" },
        b: {
          dtype: "DT_FLOAT",
          coo_sparse: { values_tensor_name: "v", indices_tensor_name: "i", dense_shape_tensor_name: "d" },
          tensor_shape: { dim: [] },
        },
      },
      outputs: {},
    },
  );
});
