import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { changedKeys, reloadDaemonConfig } from "../src/daemon-config/reload.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { RolloutError, UsageError } from "../src/errors.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/cfg/daemon.yaml";
const BASE = "model_config_file: /models/models.config\nadmission:\n  quiet_window: 2s\n";

async function start(text = BASE) {
  const reader = memoryReader({ [FILE]: text });
  const flags = { config: FILE, once: true };
  const config = await loadDaemonConfig(flags, {}, reader);
  return { reader, flags, config };
}

test("a valid edit is applied and the changed keys are listed", async () => {
  const { reader, flags, config } = await start();
  reader.files[FILE] = BASE.replace("2s", "5s") + "rollback: { action: delete }\n";
  const result = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(result.ok);
  assert.equal(result.config.admission.quiet_window, 5000);
  assert.equal(result.config.rollback.action, "delete");
  assert.deepEqual(result.changed, ["admission.quiet_window", "rollback.action"]);
  assert.equal(result.config.once, true);
});

test("an invalid edit leaves the previous config in place and says why", async () => {
  const { reader, flags, config } = await start();
  const snapshot = structuredClone(config);
  reader.files[FILE] = BASE.replace("2s", "2 sec");
  const result = await reloadDaemonConfig(config, flags, {}, reader);
  assert.equal(result.ok, false);
  assert.equal(result.config, config, "the very same object: nothing half-applied");
  assert.deepEqual(config, snapshot);
  assert.ok(!result.ok && result.error instanceof DaemonConfigError);
  assert.equal(result.error.where, `${FILE}:3:17`);
});

test("a deleted file, a YAML syntax error or a read failure also keep the old config (never a throw)", async () => {
  const { reader, flags, config } = await start();
  delete reader.files[FILE];
  const missing = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(
    !missing.ok && missing.error instanceof UsageError && /does not exist/.test(missing.error.message),
  );
  assert.equal(missing.config, config);

  reader.files[FILE] = "admission: [\n";
  const syntax = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(!syntax.ok && /not valid YAML/.test(syntax.error.message));

  reader.read = async () => {
    throw new TypeError("boom");
  };
  const failed = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(!failed.ok && failed.error instanceof RolloutError);
  assert.equal(failed.config, config);
});

test("state_dir and model_config_file cannot change under a running daemon", async () => {
  const { reader, flags, config } = await start();
  reader.files[FILE] =
    BASE.replace("/models/models.config", "/other/models.config") + "state_dir: /elsewhere\n";
  const result = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(!result.ok);
  assert.match(result.error.message, /^model_config_file and state_dir cannot change while the daemon runs$/);
  assert.match(result.error.hint!, /restart the daemon/);
  assert.equal(result.config, config);
});

test("an unchanged file reloads with nothing changed", async () => {
  const { reader, flags, config } = await start();
  const result = await reloadDaemonConfig(config, flags, {}, reader);
  assert.ok(result.ok);
  assert.deepEqual(result.changed, []);
});

test("changedKeys walks maps and compares lists whole", () => {
  assert.deepEqual(changedKeys({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 2, c: [1, 2] }, e: 1 }), [
    "a.b",
    "d",
    "e",
  ]);
  assert.deepEqual(changedKeys({ l: [1, 2] }, { l: [2, 1] }), ["l"]);
  assert.deepEqual(changedKeys({ m: { x: 1 } }, { m: { x: 1 } }), []);
});
