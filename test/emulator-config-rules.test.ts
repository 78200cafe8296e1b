import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildLabelMap,
  checkNoPlatformChanges,
  checkTransition,
  platformOf,
  validateModelConfigList,
} from "../src/emulator/config-rules.js";
import type { ModelServerConfigObject } from "../src/modelconfig/validate.js";

const list = (...config: object[]): ModelServerConfigObject => ({ model_config_list: { config } });
const m = (name: string, extra: object = {}) => ({
  name,
  base_path: `/models/${name}`,
  model_platform: "tensorflow",
  ...extra,
});
const code = (expected: string, message: string | RegExp) => (e: Error & { code?: string }) =>
  e.code === expected && (typeof message === "string" ? e.message === message : message.test(e.message));

test("facts §3 step 1: first, identical and list→list transitions are legal; list→custom is not", () => {
  checkTransition(undefined, { custom_model_config: {} });
  checkTransition(list(m("a")), list(m("b")));
  checkTransition({ custom_model_config: {} }, { custom_model_config: {} });
  assert.throws(
    () => checkTransition(list(m("a")), { custom_model_config: {} }),
    code(
      "FAILED_PRECONDITION",
      "Cannot transition to requested config. It is only legal to transition from one ModelConfigList to another.",
    ),
  );
});

test("facts §3 step 3: duplicate names and relative base paths are INVALID_ARGUMENT", () => {
  assert.throws(
    () => validateModelConfigList(list(m("a"), m("a"))),
    code("INVALID_ARGUMENT", "Illegal to list model a multiple times in config list"),
  );
  assert.throws(
    () => validateModelConfigList(list({ ...m("a"), base_path: "models/a" })),
    code("INVALID_ARGUMENT", "Expected model a to have an absolute path or URI; got base_path()=models/a"),
  );
  validateModelConfigList(list({ ...m("a"), base_path: "gs://bucket/a" }));
});

test("facts §1: platform must be tensorflow; empty and unknown platforms fail with TF's wording", () => {
  assert.equal(platformOf(m("a")), "tensorflow");
  assert.equal(platformOf({ name: "a", model_type: "TENSORFLOW" }), "tensorflow");
  assert.throws(
    () => platformOf({ name: "a" }),
    code(
      "INVALID_ARGUMENT",
      "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is a",
    ),
  );
  assert.throws(
    () => platformOf(m("a", { model_platform: "onnx" })),
    code("INVALID_ARGUMENT", "Model a requests unsupported platform onnx"),
  );
});

test("facts §3 step 4: changing a live model's platform is refused", () => {
  assert.throws(
    () => checkNoPlatformChanges(list(m("a")), list(m("a", { model_platform: "onnx" }))),
    code(
      "INVALID_ARGUMENT",
      "Illegal to change a model's platform. For model a platform was tensorflow and new platform requested is onnx",
    ),
  );
});

test("facts §3 step 6: without the allow flag every label must name an AVAILABLE version", () => {
  const config = list(m("a", { version_labels: { stable: "1", canary: "2" } }));
  const available = (model: string, v: string) => model === "a" && v === "1";
  assert.throws(
    () => buildLabelMap(config, undefined, available, false),
    code(
      "FAILED_PRECONDITION",
      "Request to assign label to version 2 of model a, which is not currently available for inference",
    ),
  );
  const ok = buildLabelMap(list(m("a", { version_labels: { stable: "1" } })), undefined, available, false);
  assert.deepEqual([...(ok.get("a") ?? [])], [["stable", "1"]]);
});

test("facts §3 step 6: with the allow flag new or unchanged labels may name anything; moving one needs AVAILABLE", () => {
  const none = () => false;
  const first = buildLabelMap(list(m("a", { version_labels: { canary: "9" } })), undefined, none, true);
  assert.equal(first.get("a")?.get("canary"), "9");
  // Unchanged: fine even though 9 is not available.
  buildLabelMap(list(m("a", { version_labels: { canary: "9" } })), first, none, true);
  assert.throws(
    () => buildLabelMap(list(m("a", { version_labels: { canary: "10" } })), first, none, true),
    code("FAILED_PRECONDITION", /Request to assign label to version 10 of model a/),
  );
  const moved = buildLabelMap(
    list(m("a", { version_labels: { canary: "10" } })),
    first,
    (_, v) => v === "10",
    true,
  );
  assert.equal(moved.get("a")?.get("canary"), "10");
});
