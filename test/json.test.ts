import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonName, modelServerConfigToJson, toProtoJson } from "../src/modelconfig/json.js";
import { messageType } from "../src/proto/registry.js";

const BEYOND_2_53 = "9007199254740993"; // 2^53 + 1: not representable as a double
const INT64_MAX = "9223372036854775807";

const config = {
  model_config_list: {
    config: [
      {
        name: "half_plus_two",
        base_path: "/models/half_plus_two",
        model_platform: "tensorflow",
        model_version_policy: { specific: { versions: ["123", BEYOND_2_53] } },
        version_labels: { stable: "123", canary: BEYOND_2_53, low: "-9223372036854775808" },
      },
      {
        name: "all_of_them",
        base_path: "/models/x",
        model_platform: "tensorflow",
        model_version_policy: { all: {} },
        logging_config: {
          log_collector_config: { type: "", filename_prefix: "/tmp/log" },
          sampling_config: {
            sampling_rate: Number.NaN,
            per_task_sampling_configs: [{ dc: "x", task_index: 0 }],
          },
        },
      },
      { name: "latest", base_path: "/models/l", model_version_policy: { latest: { num_versions: 2 } } },
      {
        name: "0",
        base_path: "",
        model_version_policy: { latest: { num_versions: 0 } },
        model_type: "MODEL_TYPE_UNSPECIFIED",
      },
    ],
  },
};

test("lowerCamelCase names, int64 exact as strings beyond 2^53, empty messages kept, defaults left out", () => {
  assert.deepEqual(modelServerConfigToJson(config), {
    modelConfigList: {
      config: [
        {
          name: "half_plus_two",
          basePath: "/models/half_plus_two",
          modelPlatform: "tensorflow",
          modelVersionPolicy: { specific: { versions: ["123", BEYOND_2_53] } },
          versionLabels: { stable: "123", canary: BEYOND_2_53, low: "-9223372036854775808" },
        },
        {
          name: "all_of_them",
          basePath: "/models/x",
          modelPlatform: "tensorflow",
          modelVersionPolicy: { all: {} },
          loggingConfig: {
            logCollectorConfig: { filenamePrefix: "/tmp/log" },
            samplingConfig: { samplingRate: "NaN", perTaskSamplingConfigs: [{ dc: "x", taskIndex: 0 }] },
          },
        },
        { name: "latest", basePath: "/models/l", modelVersionPolicy: { latest: { numVersions: 2 } } },
        { name: "0", modelVersionPolicy: { latest: {} } },
      ],
    },
  });
});

test("--proto-names keeps the .proto field names", () => {
  const json = modelServerConfigToJson(config, { protoNames: true }) as {
    model_config_list: { config: Record<string, unknown>[] };
  };
  assert.deepEqual(json.model_config_list.config[0], config.model_config_list.config[0]);
  assert.deepEqual(json.model_config_list.config[1]!.model_version_policy, { all: {} });
});

test("the JSON text keeps int64 exact (strings), and map keys are never renamed", () => {
  const text = JSON.stringify(
    modelServerConfigToJson({
      model_config_list: { config: [{ name: "m", version_labels: { snake_case_label: INT64_MAX } }] },
    }),
  );
  assert.equal(
    text,
    `{"modelConfigList":{"config":[{"name":"m","versionLabels":{"snake_case_label":"${INT64_MAX}"}}]}}`,
  );
});

test("enums by name, bytes as base64 (an Any of an unknown type)", () => {
  assert.deepEqual(
    modelServerConfigToJson({
      model_config_list: { config: [{ name: "m", model_type: "TENSORFLOW" }] },
    }),
    { modelConfigList: { config: [{ name: "m", modelType: "TENSORFLOW" }] } },
  );
  assert.deepEqual(
    modelServerConfigToJson({
      custom_model_config: { type_url: "type.googleapis.com/acme.Custom", value: Buffer.from([0xff, 0, 1]) },
    }),
    { customModelConfig: { typeUrl: "type.googleapis.com/acme.Custom", value: "/wAB" } },
  );
});

test("an Any of a known type is expanded with @type and its own field names", () => {
  const inner = messageType("tensorflow.serving.ModelConfig");
  const value = inner.encode(inner.fromObject({ name: "z", base_path: "/z" })).finish();
  assert.deepEqual(
    modelServerConfigToJson({
      custom_model_config: { type_url: "type.googleapis.com/tensorflow.serving.ModelConfig", value },
    }),
    {
      customModelConfig: {
        "@type": "type.googleapis.com/tensorflow.serving.ModelConfig",
        name: "z",
        basePath: "/z",
      },
    },
  );
});

test("an empty config is {} and works for any message type", () => {
  assert.deepEqual(modelServerConfigToJson({}), {});
  assert.deepEqual(toProtoJson("tensorflow.serving.ModelConfigList", { config: [{ base_path: "/a" }] }), {
    config: [{ basePath: "/a" }],
  });
});

test("jsonName follows protobuf's ToJsonName", () => {
  assert.equal(jsonName("base_path"), "basePath");
  assert.equal(jsonName("name"), "name");
  assert.equal(jsonName("a_b_c"), "aBC");
  assert.equal(jsonName("x__y"), "xY");
  assert.equal(jsonName("_lead"), "Lead");
  assert.equal(jsonName("v2_name"), "v2Name");
});
