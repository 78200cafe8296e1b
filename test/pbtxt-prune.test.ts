import assert from "node:assert/strict";
import { test } from "node:test";
import { messageType } from "../src/proto/registry.js";
import { pruneUnknownFields } from "../src/savedmodel/pbtxt-prune.js";
import { parseTextFormat } from "../src/textformat/parse.js";

// Shaped like a real TF1 saved_model.pbtxt: fields our trimmed protos do not declare, at several depths.
const REAL_SHAPED = `saved_model_schema_version: 1
meta_graphs {
  meta_info_def {
    stripped_op_list { op { name: "Add" input_arg { name: "x" type_attr: "T" } attr { name: "T" type: "type" allowed_values { list { type: DT_FLOAT } } } } }
    tags: "serve"
    any_info { [type.googleapis.com/tensorflow.Foo] { bar: -1.5e3 } }
    tensorflow_version: "1.14.0"
  }
  graph_def {
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    versions { producer: 27 }
  }
  saver_def { filename_tensor_name: "save/Const:0" version: V2 }
  collection_def { key: "variables" value { bytes_list { value: "\\n\\x01a" "b" } } }
  signature_def {
    key: "serving_default"
    value {
      inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } dim { size: 1 } } } }
      method_name: "tensorflow/serving/predict"
    }
  }
  asset_file_def: [ { tensor_info { name: "a:0" } filename: "foo.txt" } ]
}
`;

test("unknown fields at every depth are blanked so the strict parser reads the rest", () => {
  const type = messageType("tensorflow.SavedModel");
  assert.throws(() => parseTextFormat(REAL_SHAPED, type, "f.pbtxt"), /no field named "stripped_op_list"/);
  const pruned = pruneUnknownFields(REAL_SHAPED, type, "f.pbtxt");
  assert.equal(pruned.length, REAL_SHAPED.length);
  assert.equal(pruned.split("\n").length, REAL_SHAPED.split("\n").length);
  assert.doesNotMatch(pruned, /graph_def|saver_def|collection_def|stripped_op_list|any_info|asset_file_def/);
  const plain = parseTextFormat(pruned, type, "f.pbtxt");
  assert.deepEqual(plain, {
    saved_model_schema_version: "1",
    meta_graphs: [
      {
        meta_info_def: { tags: ["serve"], tensorflow_version: "1.14.0" },
        signature_def: {
          serving_default: {
            inputs: {
              x: { name: "x:0", dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }, { size: "1" }] } },
            },
            method_name: "tensorflow/serving/predict",
          },
        },
      },
    ],
  });
});

test("errors in the kept part keep their original line and column", () => {
  const type = messageType("tensorflow.SavedModel");
  const text = `meta_graphs {\n  graph_def { node { name: "x" } }\n\tmeta_info_def { tags: 7 }\n}\n`;
  const pruned = pruneUnknownFields(text, type, "f.pbtxt");
  assert.throws(() => parseTextFormat(pruned, type, "f.pbtxt"), /f\.pbtxt:3:31: Expected string/);
});

test("text it cannot structure is returned unchanged for the parser to reject", () => {
  const type = messageType("tensorflow.SavedModel");
  for (const text of ['meta_graphs { graph_def { "', "meta_graphs { graph_def { node {", "}"]) {
    assert.equal(pruneUnknownFields(text, type, "f"), text);
  }
});
