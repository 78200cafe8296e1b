import assert from "node:assert/strict";
import { test } from "node:test";
import { messageType } from "../src/proto/registry.js";
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
    versions < producer: 27 >
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
  asset_file_def: [ { tensor_info { name: "a:0" } filename: "foo.txt" }, { filename: "b" } ];
  object_graph_def: { nodes: [] }
}
`;

test("strict by default: an unknown field is a located error, as TF Serving's TextFormat says", () => {
  const type = messageType("tensorflow.SavedModel");
  assert.throws(
    () => parseTextFormat(REAL_SHAPED, type, "f.pbtxt"),
    /f\.pbtxt:4:22: Message type "tensorflow.MetaGraphDef.MetaInfoDef" has no field named "stripped_op_list"/,
  );
});

test("allowUnknownFields skips unknown fields at every depth (blocks, lists, Any, adjacent strings)", () => {
  const type = messageType("tensorflow.SavedModel");
  const plain = parseTextFormat(REAL_SHAPED, type, "f.pbtxt", { allowUnknownFields: true });
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

test("allowUnknownFields still rejects bad syntax and bad known fields, at their real position", () => {
  const type = messageType("tensorflow.SavedModel");
  const options = { allowUnknownFields: true };
  const known = `meta_graphs {\n  graph_def { node { name: "x" } }\n\tmeta_info_def { tags: 7 }\n}\n`;
  assert.throws(() => parseTextFormat(known, type, "f.pbtxt", options), /f\.pbtxt:3:31: Expected string/);
  assert.throws(
    () => parseTextFormat("meta_graphs { graph_def { node {", type, "f", options),
    /f:1:33: Expected "}", found ""/,
  );
  assert.throws(
    () => parseTextFormat('meta_graphs { graph_def { "', type, "f", options),
    /f:1:28: Unexpected end of string/,
  );
});
