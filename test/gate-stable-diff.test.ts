// Stable vs candidate over the same requests, against the emulator: drift beyond the bounds is rejected naming
// the worst tensor and element, drift within passes, argmax agreement of class scores is measured.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GateResult } from "../src/gate/gate-result.js";
import type { StableDiffOptions } from "../src/gate/gate-options.js";
import { runSmokeGate } from "../src/gate/smoke-gate.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

const SCORES = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 3], name: "x:0" } },
    outputs: { scores: { dtype: "DT_FLOAT", shape: [-1, 3], name: "y:0" } },
  },
};

let world: GateEmulator;
before(async () => {
  world = await startGateEmulator({
    "1": {},
    "2": { behaviour: { offset: 2.05 } },
    "3": { behaviour: { scale: 0.6 } },
    "4": { signatures: SCORES },
    "5": { signatures: SCORES, behaviour: { scale: 0.8, offset: 0 } },
    "6": { signatures: SCORES, behaviour: { scale: -0.5 } },
    "7": { behaviour: { predict_error: { code: "INTERNAL", message: "stable is broken" } } },
  });
});
after(async () => world?.close());

function diff(version: string, stableVersion: string, stableDiff: StableDiffOptions): Promise<GateResult> {
  return runSmokeGate(world.input(version, { stableVersion, options: { stableDiff } }));
}

const check = (result: GateResult, stable: string) =>
  result.checks.find((c) => c.name === `outputs vs stable ${stable}`)!;

test("drift beyond the bound is rejected, naming the worst tensor and element", async () => {
  // Synthesised x = [[0.5], [1]]: 0.6x + 2 vs 0.5x + 2 differs by 0.05 and 0.1.
  const result = await diff("3", "1", { maxAbsDiff: 0.05 });
  assert.equal(result.passed, false);
  const c = check(result, "1");
  assert.equal(c.passed, false);
  assert.match(
    c.detail,
    /^max absolute difference 0\.(1|0999)\d* at output "y"\[1, 0\] of serving_default \(synthesised\) exceeds 0\.05/,
  );
  assert.ok(Math.abs(c.numbers!["y.maxAbsDiff"]! - 0.1) < 1e-5);
  assert.equal(c.numbers!.requests, 1);
  const predicts = world.emulator.callLog.list({ transport: "grpc" }).filter((r) => r.method === "Predict");
  assert.equal(predicts.at(-1)?.version, "1", "the same request went to stable by its version number");
});

test("drift within the bounds passes and still reports the largest difference", async () => {
  const result = await diff("2", "1", { maxAbsDiff: 0.1, maxRelDiff: 0.05 });
  const c = check(result, "1");
  assert.equal(c.passed, true, c.detail);
  assert.equal(result.passed, true);
  assert.match(c.detail, /1 request\(s\) compared, within bounds; largest difference 0\.05\d* at output "y"/);
  const relative = await diff("2", "1", { maxRelDiff: 0.01 });
  assert.equal(relative.passed, false);
  assert.match(check(relative, "1").detail, /max relative difference 0\.02\d* at output "y"\[0, 0\]/);
});

test("without bounds the differences are measured and reported only", async () => {
  const result = await diff("3", "1", {});
  assert.equal(result.passed, true);
  assert.ok(check(result, "1").numbers!["y.maxAbsDiff"]! > 0.09);
});

test("argmax agreement of class scores is compared with its bound", async () => {
  const same = await diff("5", "4", { minArgmaxAgreement: 1 });
  assert.equal(same.passed, true, check(same, "4").detail);
  assert.equal(check(same, "4").numbers!["scores.argmaxAgreement"], 1);
  const reversed = await diff("6", "4", { minArgmaxAgreement: 0.9 });
  assert.equal(reversed.passed, false);
  assert.match(
    check(reversed, "4").detail,
    /output "scores" argmax agrees with stable in 0 of 2 rows \(0\.0%, minimum 90\.0%\)/,
  );
});

test("a stable that fails the request fails the diff with its error", async () => {
  const result = await runSmokeGate(world.input("1", { stableVersion: "7", options: { stableDiff: {} } }));
  const c = check(result, "7");
  assert.equal(c.passed, false);
  assert.match(c.detail, /stable failed "synthesised": Predict failed: INTERNAL: stable is broken/);
});

test("no diff without a stable version", async () => {
  const result = await runSmokeGate(world.input("3", { options: { stableDiff: { maxAbsDiff: 0 } } }));
  assert.equal(result.passed, true);
  assert.ok(!result.checks.some((c) => c.name.startsWith("outputs vs stable")));
});
