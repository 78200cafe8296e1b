// buildSmokeGateInput: a model's daemon config view as one runSmokeGate input, the same for the engine's gate
// step and `tfs-rollout smoke`.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import { buildSmokeGateInput, smokeGateOptions } from "../src/engine/gate-input.js";
import type { RestClient } from "../src/tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../src/tfserving/grpc-client.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const grpc = { address: "127.0.0.1:8500" } as unknown as TfServingGrpcClient;
const rest = { baseUrl: "http://127.0.0.1:8501" } as unknown as RestClient;

async function view(yaml: string, flags: { rest?: string } = {}) {
  const config = await loadDaemonConfig(
    { config: "/cfg/d.yaml", modelConfigFile: "/m", ...flags },
    {},
    memoryReader({ "/cfg/d.yaml": yaml }),
  );
  return configForModel(config, "m");
}

test("defaults: the synthesised request, warmup replay of at most 100 records, nothing else", async () => {
  const settings = await view("");
  const input = buildSmokeGateInput({ model: "m", version: "7", grpc, rest, settings });
  assert.equal(input.model, "m");
  assert.equal(input.version, "7");
  assert.equal(input.stableVersion, undefined);
  assert.equal(input.rest, undefined, "use_rest is false without tf_serving.rest_url");
  assert.equal(input.candidateDir, undefined);
  assert.match(
    input.signatureSource.describe,
    /served by TF Serving at 127\.0\.0\.1:8500 \(GetModelMetadata\)/,
  );
  assert.deepEqual(input.options, {
    requestDeadlineMs: 10_000,
    signatures: ["serving_default"],
    allowBreakingSignature: false,
    extraRequests: [],
    warmupReplay: { maxRecords: 100 },
  });
});

test("stable, REST, the candidate's directory and the basic gate keys are passed through", async () => {
  const settings = await view(
    "gate: { request_deadline: 3s, signature_name: predict, allow_breaking_signature: true }",
    { rest: "http://127.0.0.1:8501" },
  );
  const input = buildSmokeGateInput({
    model: "m",
    version: "7",
    stable: "6",
    grpc,
    rest,
    settings,
    candidateDir: "/models/m/7",
  });
  assert.equal(input.stableVersion, "6");
  assert.equal(input.rest, rest);
  assert.equal(input.candidateDir, "/models/m/7");
  assert.equal(input.options?.requestDeadlineMs, 3000);
  assert.deepEqual(input.options?.signatures, ["predict"]);
  assert.equal(input.options?.allowBreakingSignature, true);
});

test("every deep gate key maps onto the gate's options", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tfs-gate-input-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.json"), "[]");
  const file = join(dir, "d.yaml");
  const yaml = [
    "gate:",
    "  requests:",
    "    - { name: exact, inputs: { x: [[1]] }, expected_outputs: { y: [[2.5]] }, tolerance: { absolute: 0.1 } }",
    "    - { name: ranked, signature_name: classify, inputs: { x: [[1]] }, expected_outputs: { scores: [[0.1, 0.9]] }, tolerance: { top_k: 1, min_top_k_agreement: 0.5 } }",
    "  golden_files: [a.json]",
    "  golden_tolerance: { relative: 0.01 }",
    "  warmup_replay: { max_records: 7 }",
    "  stable_diff: { max_absolute: 0.01, max_relative: 0.02, min_argmax_agreement: 0.99, requests: 4 }",
    "  latency: { requests: 9, p50_budget: 20ms, p99_budget: 80ms, max_p50_ratio_vs_stable: 1.2, max_p99_ratio_vs_stable: 1.5, floor: 2ms }",
  ].join("\n");
  const config = await loadDaemonConfig(
    { config: file, modelConfigFile: "/m" },
    {},
    memoryReader({ [file]: yaml }),
  );
  assert.deepEqual(smokeGateOptions(configForModel(config, "m")), {
    requestDeadlineMs: 10_000,
    signatures: ["serving_default"],
    allowBreakingSignature: false,
    extraRequests: [
      {
        name: "exact",
        inputs: { x: [[1]] },
        expected: { y: [[2.5]] },
        tolerance: { absolute: 0.1, relative: 1e-6 },
      },
    ],
    warmupReplay: { maxRecords: 7 },
    golden: {
      requests: [
        {
          name: "ranked",
          signature: "classify",
          inputs: { x: [[1]] },
          expected: { scores: [[0.1, 0.9]] },
          tolerance: { absolute: 1e-6, relative: 1e-6, topK: 1, minTopKAgreement: 0.5 },
        },
      ],
      files: [join(dir, "a.json")],
      tolerance: { absolute: 1e-6, relative: 0.01 },
    },
    stableDiff: { maxRequests: 4, maxAbsDiff: 0.01, maxRelDiff: 0.02, minArgmaxAgreement: 0.99 },
    latency: {
      requests: 9,
      floorMs: 2,
      p50Ms: 20,
      p99Ms: 80,
      maxP50VsStable: 1.2,
      maxP99VsStable: 1.5,
    },
  });
});

test("warmup_replay.enabled false turns replay off; a disabled section is not run", async () => {
  const options = smokeGateOptions(
    await view(
      "gate: { warmup_replay: { enabled: false }, stable_diff: { enabled: false, max_absolute: 1 } }",
    ),
  );
  assert.equal(options.warmupReplay, false);
  assert.equal(options.stableDiff, undefined);
  assert.equal(options.latency, undefined);
  assert.equal(options.golden, undefined);
});
