// Warmup replay against the emulator: the candidate's own warmup predict records are sent to it by version and
// their replies checked; a record the candidate answers badly (TF Serving's load-time replay only looks for
// errors) fails the gate; replayed records join the stable diff.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { GateResult } from "../src/gate/gate-result.js";
import { runSmokeGate } from "../src/gate/smoke-gate.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { WARMUP_FILE } from "../src/warmup/reader.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

const record = (values: number[]): Record<string, unknown> => ({
  model_spec: { name: "m", signature_name: "serving_default" },
  inputs: { x: encodeTensor(values, { dtype: "DT_FLOAT", shape: [values.length, 1] }) },
});

let world: GateEmulator;
before(async () => {
  world = await startGateEmulator(
    { "1": {}, "2": {}, "3": { behaviour: { nan_outputs: true } }, "4": {} },
    (version, dir) => {
      if (version === "2" || version === "3")
        writeWarmupFile(join(dir, WARMUP_FILE), [record([1, 2]), record([7])]);
    },
  );
});
after(async () => world?.close());

const dir = (version: string): string => join(world.base, version);
const warmupCheck = (result: GateResult) => result.checks.find((c) => c.name === "warmup replay");

test("the candidate's warmup records are replayed against it by version", async () => {
  const before = world.emulator.callLog.list({ transport: "grpc" }).length;
  const result = await runSmokeGate(world.input("2", { candidateDir: dir("2") }));
  assert.equal(result.passed, true);
  const check = warmupCheck(result)!;
  assert.equal(check.passed, true);
  assert.deepEqual(check.numbers && { ...check.numbers, maxLatencyMs: 0 }, {
    records: 2,
    replayed: 2,
    failed: 0,
    maxLatencyMs: 0,
  });
  const predicts = world.emulator.callLog
    .list({ transport: "grpc" })
    .slice(before)
    .filter((r) => r.method === "Predict");
  assert.equal(predicts.length, 3, "synthesised + 2 warmup records");
  assert.ok(predicts.every((r) => r.version === "2"));
});

test("a warmup record the candidate answers with NaN fails the gate, though TF Serving loaded it", async () => {
  const result = await runSmokeGate(world.input("3", { candidateDir: dir("3") }));
  assert.equal(result.passed, false);
  const check = warmupCheck(result)!;
  assert.equal(check.passed, false);
  assert.equal(check.numbers?.failed, 2);
  assert.match(
    check.detail,
    /^2 of 2 warmup record\(s\) failed: warmup record 1 \(serving_default\): output "y" has 2 non-finite value\(s\) of 2/,
  );
});

test("no warmup file: skipped; warmupReplay false: not run", async () => {
  const skipped = await runSmokeGate(world.input("4", { candidateDir: dir("4") }));
  assert.equal(warmupCheck(skipped)?.skipped, `the candidate ships no ${WARMUP_FILE}`);
  assert.equal(skipped.passed, true);
  const off = await runSmokeGate(
    world.input("3", { candidateDir: dir("3"), options: { warmupReplay: false } }),
  );
  assert.equal(warmupCheck(off), undefined);
});

test("maxRecords bounds the replay; replayed records also go to stable in the diff", async () => {
  const result = await runSmokeGate(
    world.input("2", {
      candidateDir: dir("2"),
      stableVersion: "1",
      options: { warmupReplay: { maxRecords: 1 }, stableDiff: { maxAbsDiff: 0 } },
    }),
  );
  assert.equal(result.passed, true, JSON.stringify(result.checks));
  assert.deepEqual(warmupCheck(result)?.numbers?.replayed, 1);
  const diff = result.checks.find((c) => c.name === "outputs vs stable 1")!;
  assert.equal(diff.numbers?.requests, 2, "synthesised + 1 warmup record");
});
