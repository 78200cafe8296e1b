import assert from "node:assert/strict";
import { test } from "node:test";
import { messageType } from "../src/proto/registry.js";
import { fieldMessage, messageSpec } from "../src/textformat/message-spec.js";

test("message specs come from protobufjs reflection: names, number order, oneofs, presence", () => {
  const spec = messageSpec(messageType("tensorflow.serving.ModelConfig"));
  assert.equal(spec.fullName, "tensorflow.serving.ModelConfig");
  assert.deepEqual(
    spec.ordered.map((f) => `${f.id}:${f.name}:${f.kind}`),
    [
      "1:name:string",
      "2:base_path:string",
      "3:model_type:enum",
      "4:model_platform:string",
      "6:logging_config:message",
      "7:model_version_policy:message",
      "8:version_labels:message",
    ],
  );
  assert.equal(spec.fields.get("name")?.hasPresence, false, "proto3 scalar: implicit presence");
  assert.equal(spec.fields.get("model_version_policy")?.hasPresence, true);
  const policy = fieldMessage(spec.fields.get("model_version_policy")!);
  assert.equal(policy.fields.get("latest")?.oneof, "policy_choice");
  const sampling = messageSpec(messageType("tensorflow.serving.SamplingConfig"));
  const perTask = fieldMessage(sampling.fields.get("per_task_sampling_configs")!);
  assert.equal(perTask.fields.get("task_index")?.hasPresence, true, "proto3 optional has presence");
  assert.ok(
    messageSpec(messageType("tensorflow.serving.ModelServerConfig")).fields.get("custom_model_config"),
  );
  assert.equal(
    fieldMessage(
      messageSpec(messageType("tensorflow.serving.ModelServerConfig")).fields.get("custom_model_config")!,
    ).isAny,
    true,
  );
});

test("map fields get a key/value entry message named like protobuf's", () => {
  const labels = messageSpec(messageType("tensorflow.serving.ModelConfig")).fields.get("version_labels");
  assert.ok(labels?.mapEntry);
  assert.equal(labels.repeated, true);
  assert.equal(labels.mapEntry.fullName, "tensorflow.serving.ModelConfig.VersionLabelsEntry");
  assert.deepEqual(
    labels.mapEntry.ordered.map((f) => `${f.id}:${f.name}:${f.kind}`),
    ["1:key:string", "2:value:int64"],
  );
});

test("recursive message types resolve lazily", () => {
  const info = messageSpec(messageType("tensorflow.TensorInfo"));
  const composite = fieldMessage(info.fields.get("composite_tensor")!);
  assert.equal(fieldMessage(composite.fields.get("components")!), info);
});
