import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/cfg/daemon.yaml";

async function load(text: string) {
  return loadDaemonConfig({ config: FILE, modelConfigFile: "/m" }, {}, memoryReader({ [FILE]: text }));
}

const TEXT = [
  "tf_serving: { rest_url: http://h:8501 }",
  "watch: { use_polling: false, poll_interval: 2s, rescan_cron: '*/10 * * * * *' }",
  "admission: { quiet_window: 3s, incomplete_deadline: 1h }",
  "rollout: { load_deadline: 5m, max_parallel_models: 2 }",
  "gate:",
  "  request_deadline: 4s",
  "  requests:",
  "    - { name: global, inputs: { x: 1 } }",
  "rollback: { action: rename }",
  "models_overrides:",
  "  nfs-model:",
  "    watch: { use_polling: true }",
  "    admission: { marker_file: _SUCCESS }",
  "    rollout: { load_deadline: 20m }",
  "  risky:",
  "    gate:",
  "      allow_breaking_signature: true",
  "      use_rest: false",
  "      requests:",
  "        - { name: own, inputs: { y: [2] }, tolerance: { absolute: 0.5 } }",
  "    rollback: { action: delete }",
  "",
].join("\n");

test("a model without overrides runs with the global settings", async () => {
  const config = await load(TEXT);
  assert.deepEqual(configForModel(config, "plain"), {
    name: "plain",
    watch: { use_polling: false, poll_interval: 2000 },
    admission: { quiet_window: 3000, incomplete_deadline: 3_600_000 },
    rollout: { load_deadline: 300_000 },
    gate: {
      request_deadline: 4000,
      use_rest: true,
      signature_name: "serving_default",
      allow_breaking_signature: false,
      requests: [{ name: "global", inputs: { x: 1 }, tolerance: { absolute: 1e-6, relative: 1e-6 } }],
      golden_files: [],
      warmup_replay: { enabled: true, max_records: 100 },
      stable_diff: { enabled: false, requests: 20 },
      latency: { enabled: false, requests: 20, floor: 5 },
    },
    rollback: { action: "rename" },
    bake: { period: 600_000, probe_cron: "*/30 * * * * *", keep_previous: 1 },
    promotion: { timezone: "UTC", windows: [], freezes: [] },
    approval: { required: false, on_timeout: "reject" },
    retention: { enabled: false, keep_promoted: 3, keep_rejected_for: 604_800_000, cron: "0 3 * * *" },
  });
});

test("overrides are merged key by key over the global values", async () => {
  const view = configForModel(await load(TEXT), "nfs-model");
  assert.deepEqual(view.watch, { use_polling: true, poll_interval: 2000 });
  assert.deepEqual(view.admission, {
    quiet_window: 3000,
    marker_file: "_SUCCESS",
    incomplete_deadline: 3_600_000,
  });
  assert.deepEqual(view.rollout, { load_deadline: 1_200_000 });
  assert.equal(view.gate.request_deadline, 4000, "keys the model does not override stay global");
  assert.equal(view.rollback.action, "rename");
});

test("an overriding list replaces the global list; other gate keys still merge", async () => {
  const view = configForModel(await load(TEXT), "risky");
  assert.deepEqual(view.gate, {
    request_deadline: 4000,
    use_rest: false,
    signature_name: "serving_default",
    allow_breaking_signature: true,
    requests: [{ name: "own", inputs: { y: [2] }, tolerance: { absolute: 0.5, relative: 1e-6 } }],
    golden_files: [],
    warmup_replay: { enabled: true, max_records: 100 },
    stable_diff: { enabled: false, requests: 20 },
    latency: { enabled: false, requests: 20, floor: 5 },
  });
  assert.equal(view.rollback.action, "delete");
});

test("the view does not alias the config: changing it leaves the config untouched", async () => {
  const config = await load(TEXT);
  const view = configForModel(config, "nfs-model");
  view.admission.quiet_window = 1;
  view.rollback.action = "delete";
  view.gate.requests.push({ name: "extra", inputs: {}, tolerance: { absolute: 0, relative: 0 } });
  assert.equal(config.admission.quiet_window, 3000);
  assert.equal(config.rollback.action, "rename");
  assert.equal(config.gate.requests.length, 1);
  assert.equal(config.models_overrides["nfs-model"]!.admission!.marker_file, "_SUCCESS");
});

test("without any config, every model gets the protective defaults", async () => {
  const config = await loadDaemonConfig({ modelConfigFile: "/m" }, {}, memoryReader());
  const view = configForModel(config, "anything");
  assert.equal(view.gate.allow_breaking_signature, false);
  assert.equal(view.rollback.action, "rename");
  assert.equal(view.admission.quiet_window, 2000);
  assert.equal(view.rollout.load_deadline, 600_000);
  assert.equal(view.gate.request_deadline, 10_000);
});
