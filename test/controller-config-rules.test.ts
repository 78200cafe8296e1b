import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkConfigSafety,
  checkModelPolicy,
  type ModelPolicyContext,
} from "../src/controller/config-rules.js";
import type { ObservedStatus } from "../src/controller/types.js";
import type { ModelConfigObject, ModelServerConfigObject } from "../src/modelconfig/validate.js";
import { status } from "./helpers/controller-world.js";

const reachable = (...versions: ReturnType<typeof status>[]): ObservedStatus => ({
  kind: "reachable",
  versions,
});

const ctx = (overrides: Partial<ModelPolicyContext> = {}): ModelPolicyContext => ({
  model: "m",
  before: { policy: { kind: "specific", versions: ["1"] }, labels: { stable: "1" } },
  status: reachable(status("1", "AVAILABLE"), status("2", "LOADING")),
  stableLabel: "stable",
  ...overrides,
});

const codes = (violations: { code: string }[]): string[] => violations.map((v) => v.code).sort();

test("checkModelPolicy: a safe load and a safe label move pass", () => {
  assert.deepEqual(checkModelPolicy({ specific: ["1", "2"], labels: { stable: "1" } }, ctx()), []);
  const loaded = ctx({
    before: { policy: { kind: "specific", versions: ["1", "2"] }, labels: { stable: "1" } },
    status: reachable(status("1", "AVAILABLE"), status("2", "AVAILABLE")),
  });
  assert.deepEqual(checkModelPolicy({ specific: ["1", "2"], labels: { stable: "2" } }, loaded), []);
});

test("checkModelPolicy: each invariant has its own violation", () => {
  const table: [string, Parameters<typeof checkModelPolicy>[0], ModelPolicyContext, string[]][] = [
    ["empty list", { specific: [], labels: {} }, ctx(), ["empty-specific", "stable-removed"]],
    [
      "label on a loading version",
      { specific: ["1", "2"], labels: { stable: "2" } },
      ctx(),
      ["label-unavailable", "load-and-label"],
    ],
    [
      "label outside the list",
      { specific: ["1"], labels: { stable: "1", canary: "3" } },
      ctx({ status: reachable(status("1", "AVAILABLE"), status("3", "AVAILABLE")) }),
      ["label-outside-specific"],
    ],
    [
      "stable removed from the list",
      { specific: ["2"], labels: {} },
      ctx({
        before: { policy: { kind: "specific", versions: ["1", "2"] }, labels: { stable: "1" } },
        status: reachable(status("1", "AVAILABLE"), status("2", "AVAILABLE")),
      }),
      ["stable-removed"],
    ],
    [
      "re-adding a failed number",
      { specific: ["1", "2"], labels: { stable: "1" } },
      ctx({ status: reachable(status("1", "AVAILABLE"), status("2", "END", "boom")) }),
      ["readd-failed"],
    ],
    [
      "re-adding an unloading version",
      { specific: ["1", "2"], labels: { stable: "1" } },
      ctx({ status: reachable(status("1", "AVAILABLE"), status("2", "UNLOADING")) }),
      ["readd-unloading"],
    ],
    [
      "TF Serving unreachable",
      { specific: ["1"], labels: { stable: "1" } },
      ctx({ status: { kind: "unreachable", reason: "down" } }),
      ["unreachable"],
    ],
  ];
  for (const [name, proposed, context, expected] of table) {
    assert.deepEqual(codes(checkModelPolicy(proposed, context)), expected, name);
  }
});

test("checkModelPolicy: an operator retry readmits a failed number; END with OK is a normal unload", () => {
  const failed = ctx({
    status: reachable(status("1", "AVAILABLE"), status("2", "END", "boom")),
    readmitted: ["2"],
  });
  assert.deepEqual(checkModelPolicy({ specific: ["1", "2"], labels: { stable: "1" } }, failed), []);
  const unloaded = ctx({ status: reachable(status("1", "AVAILABLE"), status("2", "END")) });
  assert.deepEqual(checkModelPolicy({ specific: ["1", "2"], labels: { stable: "1" } }, unloaded), []);
});

test("checkModelPolicy: adopting from latest lists what is AVAILABLE, so setting stable is no load", () => {
  const latest = ctx({
    before: { policy: { kind: "latest", numVersions: 2 }, labels: {} },
    status: reachable(status("1", "AVAILABLE"), status("2", "AVAILABLE")),
  });
  assert.deepEqual(checkModelPolicy({ specific: ["1", "2"], labels: { stable: "2" } }, latest), []);
});

const model = (
  name: string,
  versions: string[],
  labels: Record<string, string>,
  extra: Partial<ModelConfigObject> = {},
): ModelConfigObject => ({
  name,
  base_path: `/models/${name}`,
  model_platform: "tensorflow",
  model_version_policy: { specific: { versions } },
  version_labels: labels,
  ...extra,
});
const config = (...models: ModelConfigObject[]): ModelServerConfigObject => ({
  model_config_list: { config: models },
});

test("checkConfigSafety: a safe two-model config passes", () => {
  const proposed = config(model("a", ["1", "2"], { stable: "1" }), model("b", ["5"], { stable: "5" }));
  const observed = {
    status: {
      a: reachable(status("1", "AVAILABLE"), status("2", "LOADING")),
      b: reachable(status("5", "AVAILABLE")),
    },
    current: config(model("a", ["1"], { stable: "1" }), model("b", ["5"], { stable: "5" })),
    basePaths: {
      "/models/a": { kind: "listed" as const, names: ["1", "2"] },
      "/models/b": { kind: "listed" as const, names: ["5"] },
    },
  };
  assert.deepEqual(checkConfigSafety(proposed, observed), []);
});

test("checkConfigSafety: every model is checked, with TF Serving's own wording where it has one", () => {
  const proposed = config(
    model("a", ["1", "2"], { stable: "2" }),
    model("b", [], {}),
    model("c", ["1"], {}, { model_platform: "pytorch" }),
    model("d", ["1"], {}, { base_path: "relative/d" }),
    model("e", ["1"], {}),
    model("f", ["1"], {}),
  );
  const observed = {
    status: { a: reachable(status("1", "AVAILABLE"), status("2", "LOADING")) },
    current: config(model("a", ["1"], { stable: "1" })),
    basePaths: {
      "/models/e": { kind: "missing" as const },
      "/models/f": { kind: "listed" as const, names: ["1.tmp"] },
    },
  };
  const violations = checkConfigSafety(proposed, observed);
  assert.deepEqual(codes(violations), [
    "empty-specific",
    "label-unavailable",
    "load-and-label",
    "missing-base-path",
    "no-version-dirs",
    "relative-base-path",
    "unsupported-platform",
  ]);
  const label = violations.find((v) => v.code === "label-unavailable");
  assert.equal(
    label?.message,
    "Request to assign label to version 2 of model a, which is not currently available for inference",
  );
  assert.equal(label?.model, "a");
});

test("checkConfigSafety: labels of models not managed (latest policy) must still name AVAILABLE versions", () => {
  const proposed = config({
    name: "x",
    base_path: "/models/x",
    model_platform: "tensorflow",
    version_labels: { stable: "3" },
  });
  const violations = checkConfigSafety(proposed, { status: { x: reachable(status("3", "LOADING")) } });
  assert.deepEqual(codes(violations), ["label-unavailable"]);
});
