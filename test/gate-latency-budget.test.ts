// The latency budget: percentiles and verdicts on an injected clock (deterministic), interleaving of candidate
// and stable calls, and the check against the emulator's per-version latency_ms.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GateContext } from "../src/gate/gate-context.js";
import { checkLatencyBudget, judgeLatency, measureLatency, percentile } from "../src/gate/latency-budget.js";
import type { Clock } from "../src/gate/predict-exchange.js";
import type { PreparedRequest } from "../src/gate/prepared-request.js";
import { runSmokeGate } from "../src/gate/smoke-gate.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

const request: PreparedRequest = {
  label: "synthesised",
  signature: "serving_default",
  inputs: { x: { dtype: "DT_FLOAT", shape: [1, 1], values: [1] } },
  batch: 1,
};

/** A fake TF Serving whose Predict advances the fake clock by the version's next latency. */
function fakeWorld(latencies: Record<string, number[]>): { ctx: GateContext; calls: string[] } {
  let now = 0;
  const clock: Clock = { now: () => now };
  const calls: string[] = [];
  const ctx: GateContext = {
    grpc: {
      predict: (async (req: { model_spec: { version: { value: string } } }) => {
        const version = req.model_spec.version.value;
        calls.push(version);
        const next = latencies[version]!.shift();
        if (next === undefined) throw new Error("no more latencies");
        now += next;
        return { model_spec: { name: "m", version: { value: version } }, outputs: {} };
      }) as unknown as GateContext["grpc"]["predict"],
    },
    candidate: { model: "m", version: "2", deadlineMs: 10_000, clock },
    stable: { model: "m", version: "1", deadlineMs: 10_000, clock },
    candidateSignatures: { serving_default: { method: "", inputs: {}, outputs: {}, defaults: [] } },
    stableSignatures: { serving_default: { method: "", inputs: {}, outputs: {}, defaults: [] } },
    checks: [],
    replies: [{ request, exchange: { transport: "grpc", elapsedMs: 1 } }],
    noteFailure: () => undefined,
  };
  return { ctx, calls };
}

test("percentile is nearest-rank", () => {
  const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  assert.equal(percentile(samples, 50), 5);
  assert.equal(percentile(samples, 99), 10);
  assert.equal(percentile(samples, 90), 9);
  assert.equal(percentile([], 50), 0);
});

test("candidate and stable calls interleave, alternating which goes first", async () => {
  const { ctx, calls } = fakeWorld({ "2": [10, 11, 12, 13], "1": [5, 5, 5, 5] });
  const samples = await measureLatency(ctx, request, 4);
  assert.deepEqual(calls, ["2", "1", "1", "2", "2", "1", "1", "2"]);
  assert.deepEqual(samples.candidate, [10, 11, 12, 13]);
  assert.deepEqual(samples.stable, [5, 5, 5, 5]);
});

test("judgeLatency: absolute budgets, ratios to stable with a floor", () => {
  const samples = { candidate: [10, 10, 10, 40], stable: [10, 10, 10, 20], errors: [] };
  assert.deepEqual(judgeLatency(samples, { p50Ms: 10, p99Ms: 40, maxP99VsStable: 2 }).problems, []);
  const over = judgeLatency(samples, { p99Ms: 30, maxP99VsStable: 1.5, maxP50VsStable: 1 });
  assert.deepEqual(over.problems, [
    "candidate p99 40 ms exceeds the 30 ms budget",
    "candidate p99 40 ms exceeds 1.5x stable's 20 ms (limit 30 ms, floor 5 ms)",
  ]);
  assert.deepEqual(over.numbers, {
    requests: 4,
    candidateP50Ms: 10,
    candidateP99Ms: 40,
    stableP50Ms: 10,
    stableP99Ms: 20,
  });
  // Stable at 1 ms: the floor (default 5 ms) keeps a 4 ms candidate within 1.5x.
  const tiny = { candidate: [4, 4], stable: [1, 1], errors: [] };
  assert.deepEqual(judgeLatency(tiny, { maxP99VsStable: 1.5 }).problems, []);
  assert.equal(judgeLatency(tiny, { maxP99VsStable: 1.5, floorMs: 1 }).problems.length, 1);
  const failed = judgeLatency({ candidate: [], stable: [], errors: ["version 2: boom"] }, {});
  assert.deepEqual(failed.problems, ["1 request(s) failed, first: version 2: boom"]);
});

test("checkLatencyBudget fails when the candidate answered nothing to measure with", async () => {
  const { ctx } = fakeWorld({});
  ctx.replies.length = 0;
  await checkLatencyBudget(ctx, { p99Ms: 100 });
  assert.equal(ctx.checks[0]?.passed, false);
  assert.match(ctx.checks[0]!.detail, /no request the candidate answered/);
});

test("checkLatencyBudget reports the percentiles in its check", async () => {
  const { ctx } = fakeWorld({ "2": [30, 30, 30], "1": [10, 10, 10] });
  await checkLatencyBudget(ctx, { requests: 3, maxP99VsStable: 1.5 });
  const check = ctx.checks[0]!;
  assert.equal(check.name, "latency budget");
  assert.equal(check.passed, false);
  assert.equal(check.numbers?.candidateP99Ms, 30);
  assert.equal(check.numbers?.stableP99Ms, 10);
  assert.match(check.detail, /candidate p99 30 ms exceeds 1.5x stable's 10 ms/);
});

let world: GateEmulator;
before(async () => {
  world = await startGateEmulator({ "1": {}, "2": {}, "3": { behaviour: { latency_ms: 200 } } });
});
after(async () => world?.close());

test("against the emulator: a slow candidate breaks the absolute budget and the ratio to stable", async () => {
  const result = await runSmokeGate(
    world.input("3", {
      stableVersion: "1",
      options: { latency: { requests: 3, p99Ms: 150, maxP99VsStable: 1.5, floorMs: 50 } },
    }),
  );
  const check = result.checks.find((c) => c.name === "latency budget")!;
  assert.equal(result.passed, false);
  assert.equal(check.passed, false);
  assert.match(check.detail, /candidate p99 \d+(\.\d)? ms exceeds the 150 ms budget/);
  assert.match(check.detail, /exceeds 1.5x stable's/);
  assert.ok(check.numbers!.candidateP99Ms! >= 200);
  const predicts = world.emulator.callLog.list({ transport: "grpc" }).filter((r) => r.method === "Predict");
  assert.ok(
    predicts.filter((r) => r.version === "1").length >= 3,
    "stable was measured by its version number",
  );
});

test("against the emulator: a candidate as fast as stable passes", async () => {
  const result = await runSmokeGate(
    world.input("2", {
      stableVersion: "1",
      options: { latency: { requests: 3, p99Ms: 5000, maxP99VsStable: 1.5, floorMs: 50 } },
    }),
  );
  const check = result.checks.find((c) => c.name === "latency budget")!;
  assert.equal(check.passed, true, check.detail);
  assert.equal(result.passed, true);
  assert.equal(check.numbers!.requests, 3);
});
