// The bake period's health probe against the in-process emulator: status, the gate's requests sent by the
// `stable` label, the reply's version, and what the probe leaves to the gate.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import type { ModelConfigView } from "../src/daemon-config/types.js";
import { parseBehaviour } from "../src/emulator/behaviour.js";
import { bakeProbe, probeOptions } from "../src/engine/bake-probe.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

let world: GateEmulator;
let settings: ModelConfigView;
before(async () => {
  world = await startGateEmulator(
    { "1": { behaviour: { degrade_when_file: "DEGRADED" } }, "2": {} },
    () => undefined,
    { stable: "1" },
  );
  settings = configForModel(await loadDaemonConfig({ modelConfigFile: "/m" }, {}, memoryReader()), "m");
});
after(async () => world?.close());

const target = (version: string) => ({ model: "m", version, label: "stable", settings });

test("a healthy stable passes: AVAILABLE, and the synthesised request sent by the label answers from it", async () => {
  const since = Date.now();
  const result = await bakeProbe({ grpc: world.grpc })(target("1"));
  assert.equal(result.outcome, "passed", result.reason);
  assert.ok("result" in result);
  assert.deepEqual(
    result.result.checks.map((c) => [c.name, c.passed]),
    [
      ["status of stable 1", true],
      ["predict serving_default (synthesised) over gRPC", true],
    ],
  );
  const predicts = world.emulator.callLog.list({ method: "Predict", since });
  assert.ok(predicts.length > 0);
  for (const call of predicts) {
    assert.equal(call.label, "stable", "sent as clients send it: by the label");
    assert.equal(call.version, undefined);
  }
});

test("a stable that degrades after its promotion fails the probe, naming the failing request", async (t) => {
  const flag = join(world.base, "1", "DEGRADED");
  writeFileSync(flag, "");
  t.after(() => rmSync(flag, { force: true }));
  const result = await bakeProbe({ grpc: world.grpc })(target("1"));
  assert.equal(result.outcome, "failed");
  assert.match(result.reason, /predict serving_default \(synthesised\) over gRPC: .*degraded/);
  assert.ok("result" in result && result.result.failingExchange, "the failing exchange is summarised");
});

test("a label that no longer resolves to the baked version fails: the reply came from another version", async () => {
  const result = await bakeProbe({ grpc: world.grpc })(target("2"));
  assert.equal(result.outcome, "failed");
  assert.match(result.reason, /the reply came from version 1, not the candidate 2/);
});

test("a version TF Serving does not list fails the status check", async () => {
  const result = await bakeProbe({ grpc: world.grpc })(target("9"));
  assert.equal(result.outcome, "failed");
  assert.match(result.reason, /status of stable 9: GetModelStatus does not list version 9/);
});

test("TF Serving unreachable: inconclusive, never a failure (a rollback is never decided on a guess)", async () => {
  const down = new TfServingGrpcClient({ address: "127.0.0.1:1", attempts: 1, deadlineMs: 500 });
  try {
    const result = await bakeProbe({ grpc: down })(target("1"));
    assert.equal(result.outcome, "inconclusive");
    assert.match(result.reason, /unreachable/);
  } finally {
    down.close();
  }
});

test("probe options: no warmup replay, no stable diff, latency only against absolute budgets", () => {
  assert.deepEqual(
    probeOptions({
      requestDeadlineMs: 100,
      warmupReplay: { maxRecords: 5 },
      stableDiff: { maxAbsDiff: 0 },
      latency: { requests: 3, p99Ms: 50, maxP99VsStable: 1.5, maxP50VsStable: 2 },
      golden: { files: ["/g.json"] },
    }),
    {
      requestDeadlineMs: 100,
      warmupReplay: false,
      latency: { requests: 3, p99Ms: 50 },
      golden: { files: ["/g.json"] },
    },
  );
  assert.deepEqual(
    probeOptions({ latency: { maxP99VsStable: 1.5 } }),
    { warmupReplay: false },
    "ratios only: nothing to measure without stable",
  );
});

test("emulator knob degrade_when_file: a plain file name inside the version directory", () => {
  const behaviour = parseBehaviour(
    '{"degrade_when_file": "DEGRADED"}',
    "/models/m/7/assets.extra/emulator.json",
  );
  assert.equal(behaviour.degradeWhenFile, "/models/m/7/DEGRADED");
  assert.throws(
    () => parseBehaviour('{"degrade_when_file": "../x"}', "/models/m/7/assets.extra/emulator.json"),
    /degrade_when_file: must be a plain file name inside the version directory/,
  );
});
