// runSmokeGate against the real emulator in-process (ports 0, temp model dirs): each way a candidate can be bad
// fails the gate with the reason, a good one passes over gRPC and REST, signature changes are listed.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startEmulator, type RunningEmulator } from "../src/emulator/emulator.js";
import { parseFlags } from "../src/emulator/flags.js";
import type { GateResult } from "../src/gate/gate-result.js";
import { savedModelSignatures, servedSignatures } from "../src/gate/gate-signature.js";
import { runSmokeGate, type SmokeGateInput } from "../src/gate/smoke-gate.js";
import { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { RestClient } from "../src/tfserving/rest-client.js";
import { configText, modelEntry, tempDir, waitFor, writeVersion } from "./helpers/emulator-harness.js";
import { fixturesSkip, TFSERVING_TESTDATA } from "./helpers/fixtures.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tmp = tempDir("tfs-gate-");
const base = join(tmp.dir, "m");
const fixtureModel = join(TFSERVING_TESTDATA, "saved_model_half_plus_two_2_versions");
const useFixtures = fixturesSkip() === false;

const VERSIONS: Record<string, Parameters<typeof writeVersion>[2]> = {
  "1": {},
  "2": {},
  "3": { behaviour: { nan_outputs: true } },
  "4": { behaviour: { predict_error: { code: "INTERNAL", message: "boom in the graph" } } },
  "5": { behaviour: { latency_ms: 1500 } },
  "6": { behaviour: { output_shape: [1] } },
  "7": { variables: false },
  "8": {
    signatures: {
      serving_default: {
        method: "tensorflow/serving/predict",
        inputs: { features: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
        outputs: {
          y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" },
          y_extra: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y2:0" },
        },
      },
    },
  },
  "9": {
    signatures: {
      serving_default: {
        method: "tensorflow/serving/classify",
        inputs: { inputs: { dtype: "DT_STRING", shape: null, name: "tf_example:0" } },
        outputs: { scores: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
      },
    },
  },
};

let emulator: RunningEmulator;
let grpc: TfServingGrpcClient;
let rest: RestClient;

before(async () => {
  for (const [version, options] of Object.entries(VERSIONS)) writeVersion(base, version, options);
  const entries = [modelEntry("m", base, "model_version_policy { all {} }")];
  if (useFixtures) entries.push(modelEntry("fixture", fixtureModel, "model_version_policy { all {} }"));
  const file = join(tmp.dir, "models.config");
  writeFileSync(file, configText(...entries));
  emulator = await startEmulator(
    parseFlags([
      `--model_config_file=${file}`,
      "--port=0",
      "--rest_api_port=0",
      "--file_system_poll_wait_seconds=0",
      "--max_num_load_retries=0",
    ]),
    quiet,
  );
  grpc = new TfServingGrpcClient({ address: `127.0.0.1:${emulator.ports.grpc_port}`, attempts: 1 });
  rest = new RestClient({ baseUrl: `http://127.0.0.1:${emulator.ports.rest_api_port}` });
  await waitFor("every version AVAILABLE", async () => {
    const states = await grpc.getModelStatus("m");
    return states.length === Object.keys(VERSIONS).length && states.every((s) => s.state === "AVAILABLE");
  });
});

after(async () => {
  grpc?.close();
  await emulator?.close();
  tmp.cleanup();
});

function gate(version: string, extra: Partial<SmokeGateInput> = {}): Promise<GateResult> {
  return runSmokeGate({
    model: "m",
    version,
    grpc,
    rest,
    signatureSource: servedSignatures(grpc, "m"),
    ...extra,
  });
}

function failed(result: GateResult): string[] {
  return result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
}

test("a good candidate passes over gRPC and REST, by version number, compatible with stable", async () => {
  const result = await gate("2", { stableVersion: "1" });
  assert.deepEqual(failed(result), []);
  assert.equal(result.passed, true);
  assert.deepEqual(
    result.checks.map((c) => c.name),
    [
      "signature compatibility with stable 1",
      "predict serving_default (synthesised) over gRPC",
      "predict serving_default (synthesised) over REST",
    ],
  );
  assert.equal(result.failingExchange, undefined);
  const predicts = emulator.callLog.list({ transport: "grpc" }).filter((r) => r.method === "Predict");
  assert.equal(predicts.at(-1)?.version, "2");
  const restCalls = emulator.callLog.list({ transport: "rest" });
  assert.ok(
    restCalls.some((r) => r.version === "2"),
    "REST predict addressed /versions/2",
  );
});

test("NaN outputs fail the finite check over gRPC and over REST (bare NaN tokens, not a crash)", async () => {
  const result = await gate("3");
  assert.equal(result.passed, false);
  const problems = failed(result);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /over gRPC: output "y" has 2 non-finite value\(s\) of 2 \(first: NaN/);
  assert.match(problems[1]!, /over REST: output "y" has 2 non-finite value/);
  assert.equal(result.checks[0]!.numbers?.nonFinite, 2);
  assert.equal(result.failingExchange?.request.transport, "grpc");
  assert.deepEqual(result.failingExchange?.request.inputs, { x: "DT_FLOAT [2, 1]: 0.5, 1 (2 values)" });
  assert.deepEqual(result.failingExchange?.response.outputs, { y: "DT_FLOAT [2, 1]: NaN, NaN (2 values)" });
});

test("a Predict error fails the gate with the status and message", async () => {
  const result = await gate("4");
  assert.match(failed(result)[0]!, /over gRPC: Predict failed: INTERNAL: boom in the graph/);
  assert.match(failed(result)[1]!, /over REST: Predict failed: HTTP 500: boom in the graph/);
  assert.match(String(result.failingExchange?.response.error), /boom in the graph/);
});

test("an answer beyond the request deadline fails", async () => {
  const result = await gate("5", { options: { requestDeadlineMs: 200 } });
  assert.equal(result.passed, false);
  assert.match(
    failed(result)[0]!,
    /over gRPC: no answer within the 200 ms deadline \(gRPC DEADLINE_EXCEEDED\)/,
  );
  assert.match(failed(result)[1]!, /over REST: no REST answer within the 200 ms deadline/);
});

test("an output shape that contradicts the signature fails", async () => {
  const result = await gate("6", { rest: undefined });
  assert.match(
    failed(result)[0]!,
    /output "y" has shape \[1\], rank 1; the signature declares rank 2 \[-1, 1\]/,
  );
});

test("a version loaded without variables/ fails (uninitialized value)", async () => {
  const result = await gate("7", { rest: undefined });
  assert.match(failed(result)[0]!, /FAILED_PRECONDITION: Attempting to use uninitialized value/);
});

test("a breaking signature change fails with the change listed, and passes when allowed", async () => {
  const result = await gate("8", { stableVersion: "1" });
  const compat = result.checks[0]!;
  assert.equal(compat.passed, false);
  assert.deepEqual(
    compat.changes?.map((c) => [c.kind, c.alias, c.breaking]),
    [
      ["input-renamed", "features", true],
      ["output-added", "y_extra", false],
    ],
  );
  assert.match(compat.detail, /input "x" renamed to "features"/);
  assert.deepEqual(failed(result).length, 1, "the candidate itself still answers well");

  const allowed = await gate("8", { stableVersion: "1", options: { allowBreakingSignature: true } });
  assert.equal(allowed.passed, true);
  assert.match(allowed.checks[0]!.detail, /allowed by allowBreakingSignature/);
});

test("serving_default that cannot be synthesised fails closed, unless allowed", async () => {
  const result = await gate("9");
  assert.equal(result.passed, false);
  assert.match(failed(result)[0]!, /takes serialized tf.Example protos.*fails closed/);
  const allowed = await gate("9", { options: { allowUnsynthesizable: true } });
  assert.equal(allowed.passed, true);
  assert.match(allowed.checks[0]!.skipped ?? "", /tf.Example/);
});

test("extra requests run on both transports and compare within their tolerance", async () => {
  // The emulator computes y = 0.5 x + 2.
  const extra = { name: "two rows", inputs: { x: [[1], [2]] }, expected: { y: [[2.5], [3.0001]] } };
  const strict = await gate("2", { options: { extraRequests: [extra] } });
  assert.deepEqual(
    failed(strict).map((p) => p.replace(/ \(tolerance.*/, "")),
    [
      'predict serving_default (two rows) over gRPC: output "y" value 1 is 3, expected 3.0001',
      'predict serving_default (two rows) over REST: output "y" value 1 is 3, expected 3.0001',
    ],
  );
  const loose = await gate("2", {
    options: { extraRequests: [{ ...extra, tolerance: { absolute: 1e-3 } }] },
  });
  assert.deepEqual(failed(loose), []);
  const extraCheck = loose.checks.find((c) => c.name === "predict serving_default (two rows) over gRPC");
  assert.equal(extraCheck?.numbers?.compared, 2);
  assert.ok((extraCheck?.numbers?.maxAbsDiff ?? 0) > 0);
});

test("a misconfigured extra request fails its check with the input named", async () => {
  const result = await gate("2", { options: { extraRequests: [{ inputs: { nope: [1] } }] } });
  assert.match(failed(result)[0]!, /extra #1.*input "nope" is not in signature "serving_default"/);
});

test("an unreadable signature source fails the gate instead of skipping it", async () => {
  const result = await gate("2", {
    signatureSource: savedModelSignatures((v) => join(tmp.dir, "missing", v)),
  });
  assert.equal(result.passed, false);
  assert.match(failed(result)[0]!, /candidate signatures: cannot read the signatures of candidate version 2/);
});

test("the elapsed time on the injected clock is checked against the deadline", async () => {
  let now = 0;
  const clock = { now: () => (now += 11_000) };
  const result = await gate("2", { rest: undefined, clock });
  assert.match(failed(result)[0]!, /took 11000 ms, beyond the 10000 ms deadline/);
});

test(
  "the real half_plus_two fixture passes, and its two identical versions are compatible",
  { skip: fixturesSkip() },
  async () => {
    const result = await runSmokeGate({
      model: "fixture",
      version: "124",
      stableVersion: "123",
      grpc,
      rest,
      signatureSource: servedSignatures(grpc, "fixture"),
      options: { extraRequests: [{ inputs: { x: [[1.0], [2.0]] }, expected: { y: [[2.5], [3.0]] } }] },
    });
    assert.deepEqual(failed(result), []);
    assert.equal(result.checks[0]!.detail, "inputs and outputs of serving_default match stable");
    const fromDisk = await runSmokeGate({
      model: "fixture",
      version: "124",
      grpc,
      signatureSource: savedModelSignatures((v) => join(fixtureModel, v.padStart(8, "0"))),
    });
    assert.deepEqual(failed(fromDisk), []);
  },
);

test("a reply from another version than the candidate fails, and the summary names it", async () => {
  const otherVersion = {
    predict: async (request: Record<string, unknown>) => {
      const reply = await grpc.predict(request);
      return { ...reply, model_spec: { name: "m", version: { value: "1" } } };
    },
  };
  const result = await gate("2", { grpc: otherVersion, rest: undefined });
  assert.match(failed(result)[0]!, /the reply came from version 1, not the candidate 2/);
  assert.equal(result.failingExchange?.response.version, "1");
});
