import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  type BasePathListing,
  type Finding,
  type ModelConfigObject,
  type ModelServerConfigObject,
  collectVersionDirs,
  localBasePathProbe,
  parseVersionDirName,
  validateModelServerConfig,
  validateRules,
} from "../src/modelconfig/validate.js";

function model(overrides: ModelConfigObject = {}): ModelConfigObject {
  return { name: "m", base_path: "/models/m", model_platform: "tensorflow", ...overrides };
}

function configOf(...models: ModelConfigObject[]): ModelServerConfigObject {
  return { model_config_list: { config: models } };
}

/** [severity, code, path, message] of every finding, for exact comparison. */
function summary(findings: Finding[]): [string, string, string, string][] {
  return findings.map((f) => [f.severity, f.code, f.path, f.message]);
}

test("a plain valid config has no findings", () => {
  const config = configOf(
    model(),
    model({ name: "n", base_path: "gs://bucket/n", model_version_policy: { specific: { versions: ["1"] } } }),
  );
  assert.deepEqual(validateRules(config), []);
});

test("every finding carries a model, a path and a hint", () => {
  const findings = validateRules(configOf(model({ base_path: "rel" }), model({ name: "m" })));
  assert.ok(findings.length > 0);
  for (const f of findings) {
    assert.equal(f.model, "m");
    assert.ok(f.hint.length > 10);
  }
});

test("relative base paths are errors with TF Serving's message; absolute paths and URIs are fine", () => {
  const config = configOf(
    model({ name: "a", base_path: "models/a" }),
    model({ name: "b", base_path: "" }),
    model({ name: "c", base_path: "${TEST_HALF_PLUS_TWO_DIR}" }),
    model({ name: "d", base_path: "/abs" }),
    model({ name: "e", base_path: "s3://bucket/e" }),
    model({ name: "f", base_path: "hdfs.x://host/f" }),
    model({ name: "g", base_path: "1bad://x" }),
  );
  assert.deepEqual(summary(validateRules(config)), [
    [
      "error",
      "relative-base-path",
      "model_config_list.config[0].base_path",
      "Expected model a to have an absolute path or URI; got base_path()=models/a",
    ],
    [
      "error",
      "relative-base-path",
      "model_config_list.config[1].base_path",
      "Expected model b to have an absolute path or URI; got base_path()=",
    ],
    [
      "error",
      "relative-base-path",
      "model_config_list.config[2].base_path",
      "Expected model c to have an absolute path or URI; got base_path()=${TEST_HALF_PLUS_TWO_DIR}",
    ],
    [
      "error",
      "relative-base-path",
      "model_config_list.config[6].base_path",
      "Expected model g to have an absolute path or URI; got base_path()=1bad://x",
    ],
  ]);
  assert.match(validateRules(configOf(model({ base_path: "${X}" })))[0]!.hint, /does not expand/);
});

test("platform: missing, unsupported, and the deprecated model_type", () => {
  const config = configOf(
    model({ name: "none", model_platform: undefined }),
    model({ name: "tflite", model_platform: "tensorflow_lite" }),
    model({ name: "legacy", model_platform: undefined, model_type: "TENSORFLOW" }),
    model({ name: "both", model_type: "TENSORFLOW" }),
    model({ name: "other", model_platform: undefined, model_type: "OTHER" }),
  );
  assert.deepEqual(summary(validateRules(config)), [
    [
      "error",
      "missing-platform",
      "model_config_list.config[0].model_platform",
      "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is none",
    ],
    [
      "error",
      "unsupported-platform",
      "model_config_list.config[1].model_platform",
      "Model tflite requests unsupported platform tensorflow_lite",
    ],
    [
      "warning",
      "deprecated-model-type",
      "model_config_list.config[2].model_type",
      "Deprecated ModelServerConfig::model_type field used. Prefer ModelServerConfig::model_platform.",
    ],
    [
      "error",
      "model-type",
      "model_config_list.config[3].model_type",
      "Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform.",
    ],
    [
      "error",
      "model-type",
      "model_config_list.config[4].model_type",
      "ModelServerConfig::model_type choice OTHER not supported.",
    ],
  ]);
});

test("a duplicate model name is an error on each repeat, with TF Serving's message", () => {
  const config = configOf(
    model({ name: "x" }),
    model({ name: "y" }),
    model({ name: "x" }),
    model({ name: "x" }),
  );
  assert.deepEqual(summary(validateRules(config)), [
    [
      "error",
      "duplicate-name",
      "model_config_list.config[2].name",
      "Illegal to list model x multiple times in config list",
    ],
    [
      "error",
      "duplicate-name",
      "model_config_list.config[3].name",
      "Illegal to list model x multiple times in config list",
    ],
  ]);
});

test("custom_model_config and an unset config are errors", () => {
  assert.deepEqual(summary(validateRules({ custom_model_config: { type_url: "x" } })), [
    [
      "error",
      "custom-model-config",
      "custom_model_config",
      "ModelServer does not yet support custom model config.",
    ],
  ]);
  assert.deepEqual(summary(validateRules({})), [
    [
      "error",
      "config-not-set",
      "model_config_list",
      "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported",
    ],
  ]);
});

test("an empty model_config_list is valid (it unloads every model, which is legal)", () => {
  assert.deepEqual(validateRules({ model_config_list: {} }), []);
});

test("an empty specific list is a warning: it unloads every version", () => {
  const findings = validateRules(configOf(model({ model_version_policy: { specific: {} } })));
  assert.deepEqual(summary(findings), [
    [
      "warning",
      "empty-specific",
      "model_config_list.config[0].model_version_policy.specific",
      "No specific versions requested for servable m.",
    ],
  ]);
  assert.match(findings[0]!.hint, /unloads every version/);
});

test("labels: outside specific, under latest/all, bad names, and the allow flag", () => {
  const config = configOf(
    model({
      name: "s",
      model_version_policy: { specific: { versions: ["1", "2"] } },
      version_labels: { stable: "1", canary: "3", "bad-name": "2" },
    }),
    model({ name: "l", version_labels: { stable: "1" } }),
    model({ name: "a", model_version_policy: { all: {} }, version_labels: { stable: "1" } }),
  );
  const flagOn = { allowVersionLabelsForUnavailableModels: true };
  assert.deepEqual(summary(validateRules(config, flagOn)), [
    [
      "warning",
      "label-outside-specific",
      'model_config_list.config[0].version_labels["canary"]',
      'label "canary" points to version 3, which the specific policy does not serve',
    ],
    [
      "warning",
      "label-name",
      'model_config_list.config[0].version_labels["bad-name"]',
      'label "bad-name" is not made of [A-Za-z0-9_]+',
    ],
    [
      "warning",
      "label-without-specific",
      'model_config_list.config[1].version_labels["stable"]',
      'label "stable" points to version 1 under the latest policy',
    ],
    [
      "warning",
      "label-without-specific",
      'model_config_list.config[2].version_labels["stable"]',
      'label "stable" points to version 1 under the all policy',
    ],
  ]);
  const flagUnknown = validateRules(config).filter((f) => f.code === "labels-need-allow-flag");
  assert.deepEqual(summary(flagUnknown), [
    [
      "warning",
      "labels-need-allow-flag",
      "model_config_list.config[0].version_labels",
      "version labels in the config file (3 models) make TF Serving refuse to start unless it runs with --allow_version_labels_for_unavailable_models=true",
    ],
  ]);
  assert.equal(flagUnknown[0]!.model, undefined);
  assert.equal(validateRules(config).length, 5);
  assert.ok(validateRules(config).every((f) => f.severity === "warning"));
});

test("strict label mode: labels must name AVAILABLE versions, with TF Serving's FAILED_PRECONDITION message", () => {
  const config = configOf(
    model({
      name: "s",
      model_version_policy: { specific: { versions: ["1", "2"] } },
      version_labels: { stable: "1", canary: "2" },
    }),
    model({
      name: "t",
      model_version_policy: { specific: { versions: ["7"] } },
      version_labels: { stable: "7" },
    }),
  );
  const findings = validateRules(config, { availableVersions: { s: ["1"] } });
  assert.deepEqual(summary(findings), [
    [
      "error",
      "label-unavailable",
      'model_config_list.config[0].version_labels["canary"]',
      "Request to assign label to version 2 of model s, which is not currently available for inference",
    ],
    [
      "error",
      "label-unavailable",
      'model_config_list.config[1].version_labels["stable"]',
      "Request to assign label to version 7 of model t, which is not currently available for inference",
    ],
  ]);
  assert.deepEqual(validateRules(config, { availableVersions: { s: ["1", "2"], t: ["7"] } }), []);
  const outside = configOf(
    model({
      name: "u",
      model_version_policy: { specific: { versions: ["2"] } },
      version_labels: { stable: "1" },
    }),
  );
  assert.deepEqual(
    validateRules(outside, { availableVersions: { u: ["1", "2"] } }).map((f) => [f.severity, f.code]),
    [["warning", "label-outside-specific"]],
    "an AVAILABLE version the policy is about to drop still gets the policy warning",
  );
});

test("version directory names parse like absl::SimpleAtoi into int64", () => {
  const cases: [string, string | undefined][] = [
    ["1", "1"],
    ["00000123", "123"],
    ["+7", "7"],
    [" 7 ", "7"],
    ["\t8\n", "8"],
    ["-3", "-3"],
    ["9223372036854775807", "9223372036854775807"],
    ["9223372036854775808", undefined],
    ["-9223372036854775808", "-9223372036854775808"],
    ["-9223372036854775809", undefined],
    ["1.0", undefined],
    ["v1", undefined],
    [".123", undefined],
    ["123.tmp", undefined],
    ["0x10", undefined],
    ["", undefined],
    ["+", undefined],
    ["1 2", undefined],
    ["\u00a01", undefined],
  ];
  for (const [name, expected] of cases)
    assert.equal(parseVersionDirName(name), expected, JSON.stringify(name));
});

test("duplicate version dirs: byte order, the later name wins", () => {
  const dirs = collectVersionDirs(["5", "005", "6", "tmp", "+6"]);
  assert.deepEqual([...dirs.versions.entries()].sort(), [
    ["5", "5"],
    ["6", "6"],
  ]);
  assert.deepEqual(dirs.duplicates, [
    { version: "5", kept: "5", ignored: "005" },
    { version: "6", kept: "6", ignored: "+6" },
  ]);
});

function fakeProbe(listings: Record<string, BasePathListing>) {
  const asked: string[] = [];
  const probe = async (path: string): Promise<BasePathListing> => {
    asked.push(path);
    return listings[path] ?? { kind: "missing" };
  };
  return { probe, asked };
}

test("file-system checks: missing base path, no versions, duplicates, missing specific versions", async () => {
  const config = configOf(
    model({ name: "gone", base_path: "/m/gone" }),
    model({ name: "empty", base_path: "/m/empty" }),
    model({ name: "dup", base_path: "/m/dup" }),
    model({
      name: "spec",
      base_path: "/m/spec",
      model_version_policy: { specific: { versions: ["1", "2"] } },
    }),
    model({ name: "none", base_path: "/m/none", model_version_policy: { specific: { versions: ["9"] } } }),
    model({ name: "ok", base_path: "/m/ok" }),
    model({ name: "uri", base_path: "gs://b/uri" }),
    model({ name: "rel", base_path: "rel" }),
    model({ name: "locked", base_path: "/m/locked" }),
  );
  const { probe, asked } = fakeProbe({
    "/m/empty": { kind: "listed", names: ["1.tmp", "v2", "README"] },
    "/m/dup": { kind: "listed", names: ["5", "005"] },
    "/m/spec": { kind: "listed", names: ["00000001"] },
    "/m/none": { kind: "listed", names: ["1"] },
    "/m/ok": { kind: "listed", names: ["1", "2"] },
    "/m/locked": { kind: "error", message: "EACCES: permission denied" },
  });
  const findings = await validateModelServerConfig(config, { probe });
  assert.deepEqual(asked.sort(), [
    "/m/dup",
    "/m/empty",
    "/m/gone",
    "/m/locked",
    "/m/none",
    "/m/ok",
    "/m/spec",
  ]);
  const fsFindings = findings.filter((f) => f.code !== "relative-base-path");
  assert.deepEqual(
    fsFindings.map((f) => [f.severity, f.model, f.message]),
    [
      ["warning", "gone", "Could not find base path /m/gone for servable gone"],
      [
        "warning",
        "empty",
        "No versions of servable empty found under base path /m/empty. Did you forget to name your leaf directory as a number (eg. '/1/')?",
      ],
      [
        "warning",
        "dup",
        "Duplicate version directories detected. Version 5 will be loaded from /m/dup/5, /m/dup/005 will be ignored.",
      ],
      [
        "warning",
        "spec",
        "Version 2 of servable spec, which was requested to be served as a 'specific' version in the servable's version policy, was not found in the file system",
      ],
      [
        "warning",
        "none",
        "Version 9 of servable none, which was requested to be served as a 'specific' version in the servable's version policy, was not found in the file system",
      ],
      ["warning", "locked", "cannot list base path /m/locked for servable locked: EACCES: permission denied"],
    ],
  );
  assert.match(fsFindings[0]!.hint, /EVERY model/);
  assert.match(fsFindings[0]!.hint, /blocks forever/);
  assert.match(fsFindings[4]!.hint, /unloads entirely/);
  assert.doesNotMatch(fsFindings[3]!.hint, /unloads entirely/);
});

test("the local probe lists a real directory and reports a missing one", async () => {
  const dir = await mkdtemp(join(tmpdir(), "validate-"));
  try {
    await mkdir(join(dir, "m", "00000123"), { recursive: true });
    await writeFile(join(dir, "m", "7"), "a file named like a version still counts");
    assert.deepEqual(await localBasePathProbe(join(dir, "m")).then(sortNames), {
      kind: "listed",
      names: ["00000123", "7"],
    });
    assert.deepEqual(await localBasePathProbe(join(dir, "nope")), { kind: "missing" });
    const findings = await validateModelServerConfig(
      configOf(model({ base_path: join(dir, "m") }), model({ name: "n", base_path: join(dir, "nope") })),
      { probe: localBasePathProbe },
    );
    assert.deepEqual(
      findings.map((f) => f.code),
      ["missing-base-path"],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function sortNames(listing: BasePathListing): BasePathListing {
  return listing.kind === "listed" ? { kind: "listed", names: [...listing.names].sort() } : listing;
}
