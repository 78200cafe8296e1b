// The engine's gate step against the in-process emulator: the deep gates run with the model's settings, the
// bounded report goes into the step outcome (journaled) and the version's verdict record, the log gets a summary.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { configForModel } from "../src/daemon-config/model-view.js";
import type { ModelConfigView } from "../src/daemon-config/types.js";
import { mirrorVerdicts } from "../src/engine/controller-state.js";
import { applyProbe, type ProbeDeps } from "../src/engine/probe-steps.js";
import type { GateResult } from "../src/gate/gate-result.js";
import { JOURNAL_MAX_DETAIL } from "../src/gate/journal-form.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";
import { encodeTensor } from "../src/tensor/codec.js";
import { WARMUP_FILE } from "../src/warmup/reader.js";
import { writeWarmupFile } from "../src/warmup/writer.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";
import { startGateEmulator, type GateEmulator } from "./helpers/gate-emulator.js";

const record = (values: number[]): Record<string, unknown> => ({
  model_spec: { name: "m", signature_name: "serving_default" },
  inputs: { x: encodeTensor(values, { dtype: "DT_FLOAT", shape: [values.length, 1] }) },
});

let world: GateEmulator;
let settings: ModelConfigView;
let stateDir: string;
let state: LocalState;
before(async () => {
  world = await startGateEmulator(
    { "1": {}, "2": {}, "3": { behaviour: { nan_outputs: true } } },
    (version, dir) => {
      if (version === "2") writeWarmupFile(join(dir, WARMUP_FILE), [record([1]), record([2, 3])]);
    },
  );
  const config = await loadDaemonConfig(
    { config: "/c.yaml", modelConfigFile: "/m" },
    {},
    memoryReader({ "/c.yaml": "gate: { stable_diff: { max_absolute: 0.001 } }" }),
  );
  settings = configForModel(config, "m");
  stateDir = mkdtempSync(join(tmpdir(), "tfs-probe-steps-"));
  state = await openLocalState(stateDir);
});
after(async () => {
  await world?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function deps(extra: Partial<ProbeDeps> = {}): ProbeDeps {
  return { grpc: world.grpc, now: Date.now, pollMs: 10, verdicts: state.verdicts, ...extra };
}

const where = () => ({ basePath: world.base, dirNames: new Map(["1", "2", "3"].map((v) => [v, v])) });
const gate = (version: string) => ({ kind: "gate" as const, model: "m", version, stable: "1" });

test("a passing gate: the bounded report in the outcome, a compact summary for the log", async () => {
  const { outcome, details } = await applyProbe(deps(), gate("2"), settings, where());
  assert.equal(outcome.ok, true, outcome.reason);
  const report = outcome.report as unknown as GateResult;
  assert.equal(report.passed, true);
  assert.match(outcome.reason, new RegExp(`^${report.checks.length} checks passed$`));
  const names = report.checks.map((c) => c.name);
  assert.ok(names.includes("signature compatibility with stable 1"));
  assert.ok(names.includes("outputs vs stable 1"), "the configured stable diff ran");
  const warmup = report.checks.find((c) => c.name === "warmup replay");
  assert.equal(warmup?.numbers?.replayed, 2, "the candidate's directory was found from the disk listing");
  assert.ok(report.checks.every((c) => c.detail.length <= JOURNAL_MAX_DETAIL + 1));

  assert.equal(details?.checks_failed, 0);
  assert.equal(details?.checks_passed, report.checks.length);
  for (const check of details?.checks as Record<string, unknown>[]) {
    assert.deepEqual(
      Object.keys(check).sort(),
      check.skipped ? ["name", "passed", "skipped"] : ["name", "passed"],
    );
  }
});

test("the report is stored in the version's verdict record, created when the version has none", async () => {
  const stored = await state.verdicts.get("m", "2");
  assert.equal(stored?.verdict, "candidate");
  assert.match(stored!.reason, /gated \(passed\)/);
  assert.equal((stored?.gate as unknown as GateResult).passed, true);
});

test("a failing gate names what failed; an existing verdict record keeps its verdict and gets the report", async () => {
  await state.verdicts.put({
    model: "m",
    version: "3",
    verdict: "candidate",
    reason: "newest complete version",
    at: new Date().toISOString(),
    by: "daemon",
  });
  const { outcome, details } = await applyProbe(deps(), gate("3"), settings, where());
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason, /predict serving_default \(synthesised\) over gRPC: .*non-finite/);
  const failed = (details?.checks as { passed: boolean; detail?: string }[]).filter((c) => !c.passed);
  assert.ok(failed.length > 0 && failed.every((c) => typeof c.detail === "string"));
  assert.equal(details?.checks_failed, failed.length);
  assert.ok(details?.failing_exchange, "the failing request/response summary");

  const stored = await state.verdicts.get("m", "3");
  assert.equal(stored?.verdict, "candidate");
  assert.equal(stored?.reason, "newest complete version");
  assert.equal((stored?.gate as unknown as GateResult).passed, false);
  assert.deepEqual(stored?.gate, JSON.parse(JSON.stringify(outcome.report)));
});

test("the report outlives the verdict changes that follow (mirrorVerdicts keeps it)", async () => {
  const at = Date.now();
  await mirrorVerdicts(
    state.verdicts,
    "m",
    { "3": { verdict: "candidate", reason: "newest", at: at - 1, by: "daemon" } },
    { "3": { verdict: "rejected", reason: "gate failed", at, by: "daemon" } },
  );
  const stored = await state.verdicts.get("m", "3");
  assert.equal(stored?.verdict, "rejected");
  assert.equal((stored?.gate as unknown as GateResult).passed, false);
});

test("a base path the daemon cannot read (gs://) skips warmup replay; no verdict store: journal only", async () => {
  const { outcome } = await applyProbe(deps({ verdicts: undefined }), gate("2"), settings, {
    basePath: "gs://bucket/m",
    dirNames: new Map([["2", "2"]]),
  });
  assert.equal(outcome.ok, true, outcome.reason);
  const report = outcome.report as unknown as GateResult;
  assert.equal(
    report.checks.find((c) => c.name === "warmup replay"),
    undefined,
  );
});

test("a verdict store that fails is logged and does not decide the gate", async () => {
  const warnings: string[] = [];
  const broken = {
    get: () => Promise.reject(new Error("disk full")),
    put: () => Promise.reject(new Error("disk full")),
  };
  const { outcome } = await applyProbe(
    deps({
      verdicts: broken,
      log: { warn: (_fields: object, msg: string) => void warnings.push(msg) } as never,
    }),
    gate("2"),
    settings,
    where(),
  );
  assert.equal(outcome.ok, true);
  assert.deepEqual(warnings, ["could not store the gate report in the verdict store"]);
});
