import assert from "node:assert/strict";
import { test } from "node:test";
import { startTfServingProber, TfServingHealth } from "../src/ops/tfserving-health.js";
import { waitFor } from "./helpers/emulator-harness.js";

test("ready only after an answer; UNAVAILABLE and DEADLINE_EXCEEDED mean not reached, any other status is an answer", () => {
  let now = 0;
  const health = new TfServingHealth({ address: "127.0.0.1:8500", freshForMs: 1000, nowMs: () => now });
  assert.equal(health.notReadyReason(), "127.0.0.1:8500 not contacted yet");
  assert.equal(health.sinceLastAttemptMs(), undefined);
  health.observe("ModelService/GetModelStatus", 3, "UNAVAILABLE");
  assert.equal(
    health.notReadyReason(),
    "127.0.0.1:8500 unreachable: ModelService/GetModelStatus ended UNAVAILABLE",
  );
  health.observe("ModelService/GetModelStatus", 3, "NOT_FOUND");
  assert.equal(health.notReadyReason(), undefined, "NOT_FOUND is TF Serving answering");
  health.observe("PredictionService/Predict", 2000, "DEADLINE_EXCEEDED");
  assert.match(
    health.notReadyReason() ?? "",
    /unreachable: PredictionService\/Predict ended DEADLINE_EXCEEDED/,
  );
  health.observe("ModelService/GetModelStatus", 1, "OK");
  now = 1500;
  assert.equal(health.notReadyReason(), "127.0.0.1:8500 has not answered for 2 s");
  assert.equal(health.sinceLastAttemptMs(), 1500);
});

test("firstAttempt resolves on the first attempt, answered or not", async () => {
  const health = new TfServingHealth({ address: "a:1" });
  let resolved = false;
  const first = health.firstAttempt().then(() => (resolved = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, false);
  health.observe("ModelService/GetModelStatus", 1, "UNAVAILABLE");
  await first;
  await health.firstAttempt(); // already settled
});

test("the prober probes at once, then only while no other call ended recently, one probe at a time", async () => {
  const health = new TfServingHealth({ address: "a:1" });
  let ticks = 0;
  const since = health.sinceLastAttemptMs.bind(health);
  health.sinceLastAttemptMs = () => {
    ticks++;
    return since();
  };
  let probes = 0;
  let release: (() => void) | undefined;
  const stop = startTfServingProber({
    health,
    intervalMs: 100,
    probe: () => {
      probes++;
      return new Promise<void>((resolve) => {
        release = () => {
          health.observe("ModelService/GetModelStatus", 1, "OK");
          resolve();
        };
      });
    },
  });
  try {
    assert.equal(probes, 1, "the first probe starts at once");
    const ticksBefore = ticks;
    await waitFor("three more prober ticks", () => ticks >= ticksBefore + 3, 5000);
    assert.equal(probes, 1, "no second probe while the first has not ended");
    release!();
    await waitFor("a later probe", () => probes >= 2, 5000);
    assert.equal(health.notReadyReason(), undefined);
  } finally {
    stop();
    release?.();
  }
});
