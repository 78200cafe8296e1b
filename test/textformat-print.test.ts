import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { messageType } from "../src/proto/registry.js";
import { parseTextFormat } from "../src/textformat/parse.js";
import { printField, printTextFormat } from "../src/textformat/print.js";
import { modelServerConfigArb } from "./helpers/textformat-variants.js";

const SERVER = messageType("tensorflow.serving.ModelServerConfig");
const MODEL = messageType("tensorflow.serving.ModelConfig");
const SAMPLING = messageType("tensorflow.serving.SamplingConfig");

test("prints protobuf style: field-number order, 2-space blocks, sorted map entries, empty messages as {}", () => {
  const config = {
    model_config_list: {
      config: [
        {
          version_labels: { stable: "123", canary: "124" },
          model_version_policy: { specific: { versions: ["123", "-9223372036854775808"] } },
          model_platform: "tensorflow",
          name: "half_plus_two",
          base_path: "/models/half_plus_two",
        },
        { name: "b", model_type: "OTHER", model_version_policy: { all: {} } },
      ],
    },
  };
  assert.equal(
    printTextFormat(config, SERVER),
    `model_config_list {
  config {
    name: "half_plus_two"
    base_path: "/models/half_plus_two"
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 123
        versions: -9223372036854775808
      }
    }
    version_labels {
      key: "canary"
      value: 124
    }
    version_labels {
      key: "stable"
      value: 123
    }
  }
  config {
    name: "b"
    model_type: OTHER
    model_version_policy {
      all {}
    }
  }
}
`,
  );
  assert.equal(printTextFormat({}, SERVER), "");
});

test("escapes strings so they re-parse exactly; UTF-8 stays readable", () => {
  const name = "q\"s'b\\n\nt\tr\r\0\x01\x7fé😀";
  const printed = printTextFormat({ name }, MODEL);
  assert.equal(printed, String.raw`name: "q\"s\'b\\n\nt\tr\r\000\001\177é😀"` + "\n");
  assert.deepEqual(parseTextFormat(printed, MODEL, "p"), { name });
});

test("leaves out proto3 scalars at their default, keeps proto3 optional zeros and map zeros", () => {
  assert.equal(printTextFormat({ name: "", model_type: "MODEL_TYPE_UNSPECIFIED" }, MODEL), "");
  assert.equal(
    printTextFormat({ per_task_sampling_configs: [{ task_index: 0 }] }, SAMPLING),
    "per_task_sampling_configs {\n  task_index: 0\n}\n",
  );
  assert.equal(
    printTextFormat({ version_labels: { a: "0" } }, MODEL),
    'version_labels {\n  key: "a"\n  value: 0\n}\n',
  );
});

test("doubles print inf, -inf, nan, -0 and round-trip exactly", () => {
  for (const [value, text] of [
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
    [-0, "-0"],
    [0.1, "0.1"],
    [1e300, "1e+300"],
    [5e-324, "5e-324"],
  ] as const) {
    const printed = printTextFormat({ sampling_rate: value }, SAMPLING);
    assert.equal(printed, `sampling_rate: ${text}\n`);
    assert.ok(Object.is(parseTextFormat(printed, SAMPLING, "p").sampling_rate, value));
  }
});

test("accepts numbers and bigints for int64 and prints their exact decimal form", () => {
  const policy = { specific: { versions: [1, 2n ** 63n - 1n, "-5"] } };
  assert.equal(
    printTextFormat({ model_version_policy: policy }, MODEL),
    "model_version_policy {\n  specific {\n    versions: 1\n    versions: 9223372036854775807\n    versions: -5\n  }\n}\n",
  );
});

test("rejects properties that are not fields of the message", () => {
  assert.throws(
    () => printTextFormat({ nmae: "x" }, MODEL),
    /tensorflow.serving.ModelConfig has no field "nmae"/,
  );
});

test("printField lays one field out for insertion: base indent, `:` style, one-line style", () => {
  const policy = { specific: { versions: ["1", "2"] } };
  assert.equal(
    printField(MODEL, "model_version_policy", policy, "    "),
    "model_version_policy {\n      specific {\n        versions: 1\n        versions: 2\n      }\n    }",
  );
  assert.equal(
    printField(MODEL, "model_version_policy", policy, "", {
      indentUnit: "\t",
      messageColon: true,
      inline: true,
    }),
    "model_version_policy: { specific: { versions: 1 versions: 2 } }",
  );
  assert.equal(
    printField(MODEL, "version_labels", { b: "2", a: "1" }, "", {
      indentUnit: "  ",
      messageColon: false,
      inline: true,
    }),
    'version_labels { key: "a" value: 1 } version_labels { key: "b" value: 2 }',
  );
});

test("google.protobuf.Any prints as type_url and escaped bytes that re-parse exactly", () => {
  const any = {
    custom_model_config: {
      type_url: "type.googleapis.com/tensorflow.serving.ModelConfig",
      value: Buffer.from([0x0a, 0x01, 0x78, 0x00, 0xff, 0x22]),
    },
  };
  const printed = printTextFormat(any, SERVER);
  assert.equal(
    printed,
    'custom_model_config {\n  type_url: "type.googleapis.com/tensorflow.serving.ModelConfig"\n  value: "\\n\\001x\\000\\377\\""\n}\n',
  );
  assert.deepEqual(parseTextFormat(printed, SERVER, "p"), any);
});

test("floats print the shortest decimal that reads back as the same float32; bools and bytes round-trip", () => {
  const TENSOR = messageType("tensorflow.TensorProto");
  const tensor = {
    dtype: "DT_FLOAT",
    float_val: [Math.fround(0.1), Math.fround(1 / 3), 3.4028234663852886e38, -0, Infinity],
    bool_val: [true, false],
    string_val: [Buffer.from([0, 0x80, 0xff]), Buffer.from("ok")],
    uint64_val: ["18446744073709551615"],
  };
  const printed = printTextFormat(tensor, TENSOR);
  assert.match(
    printed,
    /float_val: 0\.1\nfloat_val: 0\.33333334\nfloat_val: 3\.4028235e\+38\nfloat_val: -0\nfloat_val: inf\n/,
  );
  assert.match(printed, /string_val: "\\000\\200\\377"\nstring_val: "ok"\n/);
  assert.deepEqual(parseTextFormat(printed, TENSOR, "p"), tensor);
});

test("property: print then parse gives the same message for random ModelServerConfigs", () => {
  fc.assert(
    fc.property(modelServerConfigArb, (config) => {
      const printed = printTextFormat(config, SERVER);
      assert.deepEqual(parseTextFormat(printed, SERVER, "printed"), config, printed);
    }),
    { numRuns: 300 },
  );
});
