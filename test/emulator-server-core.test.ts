import assert from "node:assert/strict";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { Faults } from "../src/emulator/faults.js";
import { ModelManager } from "../src/emulator/model-manager.js";
import { ServerCore } from "../src/emulator/server-core.js";
import { loadVersion } from "../src/emulator/version-loader.js";
import type { ModelServerConfigObject } from "../src/modelconfig/validate.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { publishVersion, tempDir, waitFor, writeVersion } from "./helpers/emulator-harness.js";

const tmp = tempDir();
after(() => tmp.cleanup());
let counter = 0;

function harness(
  options: { allowLabels?: boolean; warmup?: boolean; retries?: number; pollSeconds?: number } = {},
) {
  const root = join(tmp.dir, `case${++counter}`);
  mkdirSync(root, { recursive: true });
  const faults = new Faults();
  const logs: string[] = [];
  const log = {
    info: (m: string) => logs.push(m),
    warn: (m: string) => logs.push(m),
    error: (m: string) => logs.push(m),
  };
  const manager = new ModelManager({
    load: (model, version, dir) =>
      loadVersion(model, version, dir, {
        tags: ["serve"],
        enableWarmup: options.warmup ?? true,
        loadDelayMs: 0,
        waitUntilReleased: (m, v) => faults.waitUntilReleased(m, v),
        log,
      }),
    maxNumLoadRetries: options.retries ?? 0,
    loadRetryIntervalMs: 1,
    tickMs: 5,
    log,
  });
  manager.start();
  const core = new ServerCore({
    manager,
    allowVersionLabelsForUnavailableModels: options.allowLabels ?? false,
    fileSystemPollWaitSeconds: options.pollSeconds ?? 0.02,
    log,
  });
  const base = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const model = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    base_path: join(root, name),
    model_platform: "tensorflow",
    ...extra,
  });
  const config = (...models: object[]): ModelServerConfigObject => ({
    model_config_list: { config: models },
  });
  const states = (name: string) => {
    try {
      return core.modelStatus(name).map((s) => `${s.version}:${s.state}`);
    } catch {
      return [];
    }
  };
  const until = (name: string, expected: string[]) =>
    waitFor(
      `${name} ${expected.join(",")} (now ${states(name).join(",")})`,
      () => JSON.stringify(states(name)) === JSON.stringify(expected),
    );
  const stop = async () => {
    faults.releaseAll();
    await core.stop();
    await manager.stop();
  };
  return { root, faults, logs, manager, core, base, model, config, states, until, stop };
}

const x = (...values: number[]) => ({
  x: encodeTensor(values, { dtype: "DT_FLOAT", shape: [values.length, 1] }),
});
const rejectsWith = (code: string, message: string | RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, code, e.message);
  if (typeof message === "string") assert.equal(e.message, message);
  else assert.match(e.message, message);
  return true;
};

/** True when `promise` is still pending after the manager loop ran `runs` more times (no fixed sleep). */
async function stillPending(promise: Promise<unknown>, manager: ModelManager, runs = 10): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const start = manager.runs;
  await waitFor("manager runs", () => manager.runs >= start + runs);
  return !settled;
}

test("facts §3: the reload waits only for NEW model names, not for new versions of existing ones", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    assert.deepEqual(h.states("a"), ["1:AVAILABLE"], "the startup reload returns once a is AVAILABLE");
    writeVersion(h.base("b"), "5");
    await h.core.reloadConfig(h.config(h.model("a"), h.model("b")));
    assert.deepEqual(
      h.states("b"),
      ["5:AVAILABLE"],
      "a new model: the RPC returned only once it was AVAILABLE",
    );
    publishVersion(h.base("a"), "2");
    h.faults.hold("a", "2");
    await h.core.reloadConfig(h.config(h.model("a", { model_version_policy: { all: {} } }), h.model("b")));
    await h.until("a", ["2:LOADING", "1:AVAILABLE"]);
    h.faults.release("a", "2");
    await h.until("a", ["2:AVAILABLE", "1:AVAILABLE"]);
  } finally {
    await h.stop();
  }
});

test("facts §3: a new model that fails fails the reload with UNKNOWN; the config stays applied and a resend is OK", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    mkdirSync(join(h.base("bad"), "7"));
    const next = h.config(h.model("a"), h.model("bad"));
    await assert.rejects(
      h.core.reloadConfig(next),
      rejectsWith(
        "UNKNOWN",
        `1 model(s) did not become available: {{name: bad version: 7} due to error: NOT_FOUND: Could not find ` +
          `SavedModel .pb or .pbtxt at supplied export directory path: ${join(h.root, "bad", "7")}. Check that the ` +
          "directory exists and that you have the right permissions for accessing it.}, }",
      ),
    );
    assert.equal(h.core.modelStatus("bad")[0]?.status.error_code, "NOT_FOUND");
    await h.core.reloadConfig(next);
  } finally {
    await h.stop();
  }
});

test("facts §3: at startup a failed model words the error as servable(s)", async () => {
  const h = harness();
  try {
    mkdirSync(join(h.base("bad"), "1"));
    await assert.rejects(
      h.core.reloadConfig(h.config(h.model("bad")), { startup: true }),
      rejectsWith(
        "UNKNOWN",
        /^1 servable\(s\) did not become available: \{\{name: bad version: 1\} due to error: NOT_FOUND: /,
      ),
    );
  } finally {
    await h.stop();
  }
});

test("facts §3: a new model without versions blocks the reload forever and holds the lock for later reloads", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    h.base("empty");
    const blocked = h.core.reloadConfig(h.config(h.model("a"), h.model("empty")));
    const queued = h.core.reloadConfig(h.config(h.model("a"), h.model("empty")));
    assert.equal(await stillPending(blocked, h.manager), true);
    assert.equal(await stillPending(queued, h.manager), true, "the next reload waits for the lock");
    assert.match(h.logs.join("\n"), /No versions of servable empty found under base path/);
    publishVersion(h.base("empty"), "3");
    await blocked;
    await queued;
    assert.deepEqual(h.states("empty"), ["3:AVAILABLE"]);
  } finally {
    await h.stop();
  }
});

test("facts §3: a label rejection discards the policy change but the rejected config is remembered", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    writeVersion(h.base("a"), "2");
    const first = h.config(h.model("a", { model_version_policy: { specific: { versions: ["1"] } } }));
    await h.core.reloadConfig(first, { startup: true });
    await h.core.reloadConfig(
      h.config(
        h.model("a", {
          model_version_policy: { specific: { versions: ["1"] } },
          version_labels: { stable: "1" },
        }),
      ),
    );
    const bad = h.config(
      h.model("a", {
        model_version_policy: { specific: { versions: ["1", "2"] } },
        version_labels: { stable: "2" },
      }),
    );
    const message =
      "Request to assign label to version 2 of model a, which is not currently available for inference";
    await assert.rejects(h.core.reloadConfig(bad), rejectsWith("FAILED_PRECONDITION", message));
    assert.deepEqual(h.core.currentConfig(), bad, "config_ holds the rejected config");
    await assert.rejects(h.core.reloadConfig(bad), rejectsWith("FAILED_PRECONDITION", message));
    // The policy change was discarded: version 2 is never aspired; the old label still resolves.
    const runs = h.manager.runs;
    await waitFor("several manager runs", () => h.manager.runs > runs + 10);
    assert.deepEqual(h.states("a"), ["1:AVAILABLE"]);
    const reply = await h.core.predict({ model_spec: { name: "a", version_label: "stable" }, inputs: x(1) });
    assert.deepEqual(reply.model_spec, {
      name: "a",
      version: { value: "1" },
      signature_name: "serving_default",
    });
  } finally {
    await h.stop();
  }
});

test("facts §3: labels in the first config fail unless --allow_version_labels_for_unavailable_models", async () => {
  const strict = harness();
  try {
    writeVersion(strict.base("a"), "1");
    await assert.rejects(
      strict.core.reloadConfig(strict.config(strict.model("a", { version_labels: { stable: "1" } })), {
        startup: true,
      }),
      rejectsWith("FAILED_PRECONDITION", /Request to assign label to version 1 of model a/),
    );
  } finally {
    await strict.stop();
  }
  const allowed = harness({ allowLabels: true });
  try {
    writeVersion(allowed.base("a"), "1");
    await allowed.core.reloadConfig(allowed.config(allowed.model("a", { version_labels: { stable: "1" } })), {
      startup: true,
    });
    const reply = await allowed.core.predict({
      model_spec: { name: "a", version_label: "stable" },
      inputs: x(2),
    });
    assert.equal(reply.model_spec.version?.value, "1");
  } finally {
    await allowed.stop();
  }
});

test("facts §3: removed models unload (END kept in status) and then answer NOT_FOUND Latest(<m>)", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    writeVersion(h.base("b"), "1");
    await h.core.reloadConfig(h.config(h.model("a"), h.model("b")), { startup: true });
    await h.core.reloadConfig(h.config(h.model("b")));
    await h.until("a", ["1:END"]);
    await assert.rejects(
      h.core.predict({ model_spec: { name: "a" }, inputs: x(1) }),
      rejectsWith("NOT_FOUND", "Servable not found for request: Latest(a)"),
    );
    await h.core.reloadConfig({ model_config_list: {} });
    await h.until("b", ["1:END"]);
  } finally {
    await h.stop();
  }
});

test("facts §4: one missing base path freezes version discovery for every model", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    writeVersion(h.base("b"), "1");
    await h.core.reloadConfig(h.config(h.model("a"), h.model("b")), { startup: true });
    renameSync(join(h.root, "a"), join(h.root, "a.moved"));
    await waitFor("a poll failure logged", () => h.logs.some((l) => l.includes("Could not find base path")));
    publishVersion(join(h.root, "b"), "2");
    const runs = h.manager.runs;
    await waitFor("more manager runs", () => h.manager.runs > runs + 10);
    assert.deepEqual(h.states("b"), ["1:AVAILABLE"], "b's new version is not discovered");
    assert.match(
      h.logs.join("\n"),
      /FileSystemStoragePathSource encountered a filesystem access error: INVALID_ARGUMENT: Could not find base path .*\/a for servable a/,
    );
    renameSync(join(h.root, "a.moved"), join(h.root, "a"));
    await h.until("b", ["2:AVAILABLE", "1:END"]);
  } finally {
    await h.stop();
  }
});

test("facts §4: version numbers are identities — rewriting a loaded version dir does not reload it", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    writeVersion(h.base("a"), "1", { behaviour: { scale: 10, offset: 0 } });
    const runs = h.manager.runs;
    await waitFor("more manager runs", () => h.manager.runs > runs + 10);
    const reply = await h.core.predict({ model_spec: { name: "a" }, inputs: x(4) });
    assert.deepEqual(reply.outputs.y?.float_val, [4]);
    assert.deepEqual(h.states("a"), ["1:AVAILABLE"]);
  } finally {
    await h.stop();
  }
});

test("facts §5: Predict resolves version, label or latest, with TF's errors", async () => {
  const h = harness({ allowLabels: true });
  try {
    writeVersion(h.base("a"), "1");
    writeVersion(h.base("a"), "2", { behaviour: { offset: 3 } });
    await assert.rejects(
      h.core.predict({ model_spec: { name: "a", version_label: "x" }, inputs: x(1) }),
      rejectsWith("UNAVAILABLE", "Model labels does not init yet.x"),
    );
    await h.core.reloadConfig(
      h.config(
        h.model("a", { model_version_policy: { all: {} }, version_labels: { canary: "2", stable: "1" } }),
      ),
      { startup: true },
    );
    await h.until("a", ["2:AVAILABLE", "1:AVAILABLE"]);
    const latest = await h.core.predict({ model_spec: { name: "a" }, inputs: x(2, 4) });
    assert.deepEqual(latest.model_spec, {
      name: "a",
      version: { value: "2" },
      signature_name: "serving_default",
    });
    assert.deepEqual(latest.outputs.y?.float_val, [4, 5]);
    const byVersion = await h.core.predict({
      model_spec: { name: "a", version: { value: "1" } },
      inputs: x(2),
    });
    assert.deepEqual(byVersion.outputs.y?.float_val, [3]);
    const byLabel = await h.core.predict({
      model_spec: { name: "a", version_label: "stable" },
      inputs: x(2),
    });
    assert.equal(byLabel.model_spec.version?.value, "1");
    const cases: Array<[object, string, string]> = [
      [
        { model_spec: { name: "a", version_label: "nope" }, inputs: x(1) },
        "INVALID_ARGUMENT",
        "Unrecognized servable version label: nope",
      ],
      [
        { model_spec: { name: "a", version: { value: "3" } }, inputs: x(1) },
        "NOT_FOUND",
        "Servable not found for request: Specific(a, 3)",
      ],
      [
        { model_spec: { name: "zzz" }, inputs: x(1) },
        "NOT_FOUND",
        "Servable not found for request: Latest(zzz)",
      ],
      [{ model_spec: { name: "" }, inputs: x(1) }, "INVALID_ARGUMENT", "ModelSpec has no name specified."],
      [
        { model_spec: { name: "a", signature_name: "sig" }, inputs: x(1) },
        "FAILED_PRECONDITION",
        'Serving signature key "sig" not found.',
      ],
      [
        { model_spec: { name: "a" }, inputs: { ...x(1), z: x(1).x } },
        "INVALID_ARGUMENT",
        "input size does not match signature: 2!=1 len({x,z}) != len({x}). Sent extra: {z}. Missing but required: {}.",
      ],
      [
        { model_spec: { name: "a" }, inputs: x(1), output_filter: ["q"] },
        "INVALID_ARGUMENT",
        "output tensor alias not found in signature: q Outputs expected to be in the set {y}.",
      ],
    ];
    for (const [request, code, message] of cases)
      await assert.rejects(h.core.predict(request as never), rejectsWith(code, message));
  } finally {
    await h.stop();
  }
});

test("facts §4: missing variables/ loads AVAILABLE, then every Predict fails FAILED_PRECONDITION (graph with variables only)", async () => {
  const h = harness();
  try {
    writeVersion(h.base("vars"), "1", { variables: false });
    writeVersion(h.base("novars"), "1", { variables: false, graphHasVariables: false });
    await h.core.reloadConfig(h.config(h.model("vars"), h.model("novars")), { startup: true });
    assert.deepEqual(h.states("vars"), ["1:AVAILABLE"]);
    await assert.rejects(
      h.core.predict({ model_spec: { name: "vars" }, inputs: x(1) }),
      rejectsWith("FAILED_PRECONDITION", /^Attempting to use uninitialized value y/),
    );
    const ok = await h.core.predict({ model_spec: { name: "novars" }, inputs: x(2) });
    assert.deepEqual(ok.outputs.y?.float_val, [3]);
    assert.match(
      h.logs.join("\n"),
      /The specified SavedModel has no variables; no checkpoints were restored/,
    );
  } finally {
    await h.stop();
  }
});

test("facts §4, §7: a missing saved_model.pb ends the version with TF's NOT_FOUND; retries stay LOADING first", async () => {
  const h = harness({ retries: 1 });
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    mkdirSync(join(h.root, "a", "2", "variables"), { recursive: true });
    await h.until("a", ["2:END", "1:AVAILABLE"]);
    const failed = h.core.modelStatus("a", "2")[0];
    assert.equal(failed?.status.error_code, "NOT_FOUND");
    assert.match(
      failed?.status.error_message ?? "",
      /^Could not find SavedModel \.pb or \.pbtxt at supplied export directory path: .*\/a\/2\. Check/,
    );
    assert.equal(
      h.logs.filter((l) => l.startsWith("Retrying load on servable version: {name: a version: 2}")).length,
      1,
    );
  } finally {
    await h.stop();
  }
});

test("facts §6: warmup records are replayed at load; a corrupt or failing warmup file fails the load", async () => {
  const h = harness();
  try {
    const good = writeVersion(h.base("good"), "1");
    writeWarmupFile(join(good, "assets.extra", "tf_serving_warmup_requests"), [
      { model_spec: { name: "ignored", signature_name: "serving_default" }, inputs: x(1, 2, 5) },
    ]);
    const crc = writeVersion(h.base("crc"), "1");
    writeWarmupFile(join(crc, "assets.extra", "tf_serving_warmup_requests"), [{ inputs: x(1) }]);
    const file = join(crc, "assets.extra", "tf_serving_warmup_requests");
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(file, bytes);
    const wrongSig = writeVersion(h.base("sig"), "1");
    writeWarmupFile(join(wrongSig, "assets.extra", "tf_serving_warmup_requests"), [
      { model_spec: { signature_name: "nope" }, inputs: x(1) },
    ]);
    await h.core.reloadConfig(h.config(h.model("good")), { startup: true });
    assert.deepEqual(h.states("good"), ["1:AVAILABLE"]);
    await assert.rejects(
      h.core.reloadConfig(h.config(h.model("good"), h.model("crc"))),
      rejectsWith("UNKNOWN", /DATA_LOSS: .*Please verify your warmup data is in TFRecord format\./),
    );
    await assert.rejects(
      h.core.reloadConfig(h.config(h.model("good"), h.model("crc"), h.model("sig"))),
      rejectsWith("UNKNOWN", /FAILED_PRECONDITION: Serving signature key "nope" not found\./),
    );
  } finally {
    await h.stop();
  }
  const off = harness({ warmup: false });
  try {
    const dir = writeVersion(off.base("crc"), "1");
    mkdirSync(join(dir, "assets.extra"), { recursive: true });
    writeFileSync(join(dir, "assets.extra", "tf_serving_warmup_requests"), "garbage");
    await off.core.reloadConfig(off.config(off.model("crc")), { startup: true });
    assert.deepEqual(off.states("crc"), ["1:AVAILABLE"]);
  } finally {
    await off.stop();
  }
});

test("facts §5: GetModelStatus lists every version ever seen, descending, with TF's NOT_FOUND errors", async () => {
  const h = harness();
  try {
    writeVersion(h.base("a"), "1");
    await h.core.reloadConfig(h.config(h.model("a")), { startup: true });
    publishVersion(h.base("a"), "10");
    await h.until("a", ["10:AVAILABLE", "1:END"]);
    rmSync(join(h.root, "a", "10"), { recursive: true });
    await h.until("a", ["10:END", "1:AVAILABLE"]);
    assert.throws(
      () => h.core.modelStatus("zzz"),
      rejectsWith("NOT_FOUND", "Could not find any versions of model zzz"),
    );
    assert.throws(
      () => h.core.modelStatus("a", "3"),
      rejectsWith("NOT_FOUND", "Could not find version 3 of model a"),
    );
    assert.deepEqual(h.core.modelStatus("a", "1"), [
      { version: "1", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } },
    ]);
  } finally {
    await h.stop();
  }
});

test("facts §4: --file_system_poll_wait_seconds=0 polls exactly once; a negative value never polls", async () => {
  const once = harness({ pollSeconds: 0 });
  try {
    writeVersion(once.base("a"), "1");
    await once.core.reloadConfig(once.config(once.model("a")), { startup: true });
    publishVersion(once.base("a"), "2");
    const runs = once.manager.runs;
    await waitFor("more manager runs", () => once.manager.runs > runs + 10);
    assert.deepEqual(once.states("a"), ["1:AVAILABLE"]);
  } finally {
    await once.stop();
  }
  const never = harness({ pollSeconds: -1 });
  try {
    writeVersion(never.base("a"), "1");
    const startup = never.core.reloadConfig(never.config(never.model("a")), { startup: true });
    assert.equal(await stillPending(startup, never.manager), true, "no poll, so startup never completes");
  } finally {
    await never.stop();
  }
});
