// Golden requests: loading (inline, JSON files in the daemon config's gate.requests form, TFRecords of
// PredictionLogs), and the gate against the emulator: drift beyond tolerance is rejected naming the tensor and
// element, drift within it passes, top-k agreement judges class scores by ranking.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { GateResult } from "../src/gate/gate-result.js";
import type { GateSignatures } from "../src/gate/gate-signature.js";
import type { GoldenOptions } from "../src/gate/gate-options.js";
import { compareGolden, loadGoldenCases } from "../src/gate/golden-requests.js";
import { runSmokeGate } from "../src/gate/smoke-gate.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { encodeWarmupLogs } from "../src/warmup/writer.js";
import { tempDir } from "./helpers/emulator-harness.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

const SCORES = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 3], name: "x:0" } },
    outputs: { scores: { dtype: "DT_FLOAT", shape: [-1, 3], name: "y:0" } },
  },
};

const SIGNATURES: GateSignatures = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], encoding: "name" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], encoding: "name" } },
    defaults: [],
  },
};

const tmp = tempDir("tfs-golden-");
let world: GateEmulator;

before(async () => {
  world = await startGateEmulator({
    "1": {},
    "2": { behaviour: { offset: 2.05 } },
    "3": { behaviour: { scale: 0.6 } },
    "4": { signatures: SCORES },
    "5": { signatures: SCORES, behaviour: { scale: 0.8, offset: 0 } },
    "6": { signatures: SCORES, behaviour: { scale: -0.5 } },
  });
});
after(async () => {
  await world?.close();
  tmp.cleanup();
});

/** half_plus_two: x → 0.5x + 2. */
const inline: GoldenOptions = {
  requests: [{ name: "three rows", inputs: { x: [[1], [2], [3]] }, expected: { y: [[2.5], [3], [3.5]] } }],
};

function gate(version: string, golden: GoldenOptions): Promise<GateResult> {
  return runSmokeGate(world.input(version, { options: { golden } }));
}

function goldenChecks(result: GateResult): { name: string; passed: boolean; detail: string }[] {
  return result.checks.filter((c) => c.name.startsWith("golden"));
}

test("the expected outputs pass; the check is named after the request", async () => {
  const result = await gate("1", inline);
  assert.equal(result.passed, true, JSON.stringify(result.checks));
  assert.deepEqual(
    goldenChecks(result).map((c) => c.name),
    ["golden serving_default (three rows) over gRPC"],
  );
});

test("drift beyond the tolerance is rejected, naming the tensor and the element", async () => {
  const result = await gate("3", { requests: [{ ...inline.requests![0]!, tolerance: { absolute: 0.15 } }] });
  assert.equal(result.passed, false);
  const [check] = goldenChecks(result);
  assert.equal(check?.passed, false);
  assert.match(
    check!.detail,
    /output "y" element \[1, 0\] is 3\.[12]\d*, expected 3 \(tolerance: absolute 0\.15, relative 0\.000001\)/,
  );
  assert.equal(result.failingExchange?.request.request, "three rows");
});

test("drift within the tolerance passes; the default tolerance is tight", async () => {
  const loose = await gate("2", { requests: [{ ...inline.requests![0]!, tolerance: { absolute: 0.1 } }] });
  assert.equal(loose.passed, true, JSON.stringify(loose.checks));
  const tight = await gate("2", inline);
  assert.equal(tight.passed, false);
  assert.match(goldenChecks(tight)[0]!.detail, /element \[0, 0\] is 2\.5[45]\d*, expected 2\.5/);
  const relative = await gate("2", {
    requests: [{ ...inline.requests![0]!, tolerance: { relative: 0.03 } }],
  });
  assert.equal(relative.passed, true);
});

test("top-k agreement judges class scores by ranking, not by value", async () => {
  const classes: GoldenOptions = {
    requests: [
      {
        name: "ranking",
        inputs: {
          x: [
            [1, 3, 2],
            [5, 4, 6],
          ],
        },
        expected: {
          scores: [
            [2.5, 3.5, 3],
            [4.5, 4, 5],
          ],
        },
        tolerance: { topK: 1 },
      },
    ],
  };
  const reference = await gate("4", classes);
  assert.equal(reference.passed, true);
  const sameRanking = await gate("5", classes);
  assert.equal(sameRanking.passed, true, JSON.stringify(sameRanking.checks));
  assert.equal(
    sameRanking.checks.find((c) => c.name.startsWith("golden"))?.numbers?.["scores.top1Agreement"],
    1,
  );
  const elementwise = await gate("5", { requests: [{ ...classes.requests![0]!, tolerance: {} }] });
  assert.equal(elementwise.passed, false);
  const reversed = await gate("6", classes);
  assert.equal(reversed.passed, false);
  assert.match(
    goldenChecks(reversed)[0]!.detail,
    /output "scores" top-1 classes agree in 0 of 2 rows \(0\.0%, minimum 100\.0%\); first disagreeing row 0/,
  );
  const halfAllowed = await gate("6", {
    requests: [{ ...classes.requests![0]!, tolerance: { topK: 2, minTopKAgreement: 0 } }],
  });
  assert.equal(halfAllowed.passed, true);
});

test("JSON files in the gate.requests form and TFRecords of PredictionLogs are golden requests too", async () => {
  const json = join(tmp.dir, "golden.json");
  writeFileSync(
    json,
    JSON.stringify({
      requests: [
        {
          name: "from json",
          signature_name: "serving_default",
          inputs: { x: [[4]] },
          expected_outputs: { y: [[4]] },
        },
      ],
    }),
  );
  const records = join(tmp.dir, "golden.tfrecord");
  writeFileSync(
    records,
    encodeWarmupLogs([
      {
        predict_log: {
          request: {
            model_spec: { name: "m" },
            inputs: { x: encodeTensor([6], { dtype: "DT_FLOAT", shape: [1, 1] }) },
          },
          response: { outputs: { y: encodeTensor([5], { dtype: "DT_FLOAT", shape: [1, 1] }) } },
        },
      },
    ]),
  );
  const good = await gate("1", { files: [json, records] });
  assert.deepEqual(
    goldenChecks(good).map((c) => [c.name, c.passed]),
    [
      ["golden serving_default (from json) over gRPC", true],
      ["golden serving_default (golden.tfrecord #1) over gRPC", true],
    ],
  );
  const drifted = await gate("3", { files: [json, records], tolerance: { absolute: 0.01 } });
  assert.deepEqual(
    goldenChecks(drifted).map((c) => c.passed),
    [false, false],
  );
  assert.match(goldenChecks(drifted)[1]!.detail, /output "y" element \[0, 0\] is 5\.[56]\d*, expected 5 /);
});

test("a bad golden file fails the gate with a check naming the file", async () => {
  const bad = join(tmp.dir, "bad.json");
  writeFileSync(bad, JSON.stringify([{ name: "no inputs" }]));
  const result = await gate("1", { files: [bad] });
  assert.equal(result.passed, false);
  const check = result.checks.find((c) => c.name === "golden requests")!;
  assert.match(check.detail, /golden request 1 has no "inputs" object/);
  const typo = join(tmp.dir, "typo.json");
  writeFileSync(typo, JSON.stringify({ inputs: { x: [[1]] }, tolerance: { absolut: 0.1 } }));
  const mistyped = await gate("1", { files: [typo] });
  assert.match(
    mistyped.checks.find((c) => c.name === "golden requests")!.detail,
    /golden request 1 has tolerance absolut: 0\.1/,
  );
  const notRecords = join(tmp.dir, "garbage.tfrecord");
  writeFileSync(notRecords, "not a tfrecord at all");
  const garbage = await gate("1", { files: [notRecords] });
  assert.equal(garbage.passed, false);
  assert.match(garbage.checks.find((c) => c.name === "golden requests")!.detail, /byte offset 0/);
});

test("loadGoldenCases applies the options' tolerance to file requests and keeps a request's own", () => {
  const json = join(tmp.dir, "tolerances.json");
  writeFileSync(
    json,
    JSON.stringify([
      { inputs: { x: [[1]] }, expected_outputs: { y: [[2.5]] } },
      { inputs: { x: [[1]] }, expected_outputs: { y: [[2.5]] }, tolerance: { absolute: 0.5 } },
    ]),
  );
  const cases = loadGoldenCases({ files: [json], tolerance: { relative: 0.2 } }, SIGNATURES);
  assert.deepEqual(
    cases.map((c) => c.tolerance),
    [{ relative: 0.2 }, { absolute: 0.5 }],
  );
  assert.deepEqual(cases[0]!.expected.y, { shape: [1, 1], values: [2.5] });
  assert.equal(cases[0]!.request.label, `${json} #1`);
});

test("compareGolden reports a missing output and a shape mismatch", () => {
  const [golden] = loadGoldenCases(inline, SIGNATURES);
  assert.deepEqual(compareGolden(golden!, {}).problems, ['expected output "y" is not in the reply']);
  assert.deepEqual(
    compareGolden(golden!, { y: { dtype: "DT_FLOAT", shape: [3], values: [2.5, 3, 3.5] } }).problems,
    ['output "y" has shape [3]; expected [3, 1]'],
  );
});
