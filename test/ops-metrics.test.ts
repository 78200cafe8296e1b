import assert from "node:assert/strict";
import { test } from "node:test";
import { GrpcCallError } from "../src/tfserving/grpc-errors.js";
import { RolloutMetrics, errorCodeOf } from "../src/ops/metrics.js";

/** The sample lines (no # HELP/# TYPE) of the exposition that start with name. */
async function samples(metrics: RolloutMetrics, name: string): Promise<string[]> {
  const text = await metrics.expose();
  return text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

test("rollout, gate check and rollback counters count by their labels", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  metrics.rolloutFinished("m", "promoted");
  metrics.rolloutFinished("m", "promoted");
  metrics.rolloutFinished("m", "rejected");
  metrics.gateCheck("m", "golden", "pass");
  metrics.gateCheck("m", "latency", "fail");
  metrics.rolledBack("m", "automatic");
  metrics.rolledBack("other", "manual");
  assert.deepEqual(await samples(metrics, "tfs_rollout_rollouts_total"), [
    'tfs_rollout_rollouts_total{model="m",outcome="promoted"} 2',
    'tfs_rollout_rollouts_total{model="m",outcome="rejected"} 1',
  ]);
  assert.deepEqual(await samples(metrics, "tfs_rollout_gate_checks_total"), [
    'tfs_rollout_gate_checks_total{model="m",check="golden",outcome="pass"} 1',
    'tfs_rollout_gate_checks_total{model="m",check="latency",outcome="fail"} 1',
  ]);
  assert.deepEqual(await samples(metrics, "tfs_rollout_rollbacks_total"), [
    'tfs_rollout_rollbacks_total{model="m",kind="automatic"} 1',
    'tfs_rollout_rollbacks_total{model="other",kind="manual"} 1',
  ]);
});

test("promotion records the detection-to-promotion time and the new stable version", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  metrics.promoted("m", "1700000000", 10_000, 100_000);
  metrics.promoted("m", "1700000001", 50_000, 40_000); // clock stepped back: no observation
  const histogram = await samples(metrics, "tfs_rollout_detection_to_promotion_seconds_count");
  assert.deepEqual(histogram, ['tfs_rollout_detection_to_promotion_seconds_count{model="m"} 1']);
  assert.deepEqual(await samples(metrics, "tfs_rollout_detection_to_promotion_seconds_sum"), [
    'tfs_rollout_detection_to_promotion_seconds_sum{model="m"} 90',
  ]);
  assert.ok(
    (await samples(metrics, "tfs_rollout_detection_to_promotion_seconds_bucket")).includes(
      'tfs_rollout_detection_to_promotion_seconds_bucket{le="120",model="m"} 1',
    ),
  );
  assert.deepEqual(await samples(metrics, "tfs_rollout_stable_version"), [
    'tfs_rollout_stable_version{model="m"} 1700000001',
  ]);
  metrics.setStableVersion("m", undefined);
  assert.deepEqual(await samples(metrics, "tfs_rollout_stable_version"), []);
});

test("the in-flight step gauge is 1 for the running step only", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  metrics.setStepInFlight("m", "load");
  metrics.setStepInFlight("m", "gate");
  metrics.setStepInFlight("n", "promote");
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="m",step="load"} 0',
    'tfs_rollout_step_in_flight{model="m",step="gate"} 1',
    'tfs_rollout_step_in_flight{model="n",step="promote"} 1',
  ]);
  metrics.setStepInFlight("m", undefined);
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="m",step="load"} 0',
    'tfs_rollout_step_in_flight{model="m",step="gate"} 0',
    'tfs_rollout_step_in_flight{model="n",step="promote"} 1',
  ]);
});

test("TF Serving calls are timed, and failures counted by status code and rethrown", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  assert.equal(await metrics.timeTfServingCall("GetModelStatus", async () => 42), 42);
  const failure = new GrpcCallError({
    grpcCode: 9,
    grpcCodeName: "FAILED_PRECONDITION",
    grpcMessage: "nope",
    address: "127.0.0.1:8500",
    method: "ModelService/HandleReloadConfigRequest",
  });
  await assert.rejects(
    metrics.timeTfServingCall("HandleReloadConfigRequest", () => Promise.reject(failure)),
    (error) => error === failure,
  );
  metrics.tfServingCall("Predict", 0.2, "HTTP_503");
  assert.deepEqual(await samples(metrics, "tfs_rollout_tfserving_call_duration_seconds_count"), [
    'tfs_rollout_tfserving_call_duration_seconds_count{method="GetModelStatus"} 1',
    'tfs_rollout_tfserving_call_duration_seconds_count{method="HandleReloadConfigRequest"} 1',
    'tfs_rollout_tfserving_call_duration_seconds_count{method="Predict"} 1',
  ]);
  assert.deepEqual(await samples(metrics, "tfs_rollout_tfserving_call_errors_total"), [
    'tfs_rollout_tfserving_call_errors_total{method="HandleReloadConfigRequest",code="FAILED_PRECONDITION"} 1',
    'tfs_rollout_tfserving_call_errors_total{method="Predict",code="HTTP_503"} 1',
  ]);
});

test("error codes come from gRPC status names or HTTP statuses", () => {
  assert.equal(errorCodeOf({ grpcCodeName: "UNAVAILABLE" }), "UNAVAILABLE");
  assert.equal(errorCodeOf({ httpStatus: 404 }), "HTTP_404");
  assert.equal(errorCodeOf(new Error("x")), "UNKNOWN");
  assert.equal(errorCodeOf(undefined), "UNKNOWN");
});

test("forgetModel drops only that model's series", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  for (const model of ["gone", "kept"]) {
    metrics.rolloutFinished(model, "promoted");
    metrics.gateCheck(model, "golden", "pass");
    metrics.rolledBack(model, "manual");
    metrics.promoted(model, "3", 0, 1000);
    metrics.setStepInFlight(model, "gate");
  }
  await metrics.forgetModel("gone");
  const text = await metrics.expose();
  assert.doesNotMatch(text, /model="gone"/);
  for (const name of [
    "rollouts_total",
    "gate_checks_total",
    "rollbacks_total",
    "stable_version",
    "step_in_flight",
  ])
    assert.match(text, new RegExp(`tfs_rollout_${name}\\{model="kept"`));
  assert.match(text, /tfs_rollout_detection_to_promotion_seconds_count\{model="kept"\} 1/);
  metrics.setStepInFlight("gone", "load");
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="kept",step="gate"} 1',
    'tfs_rollout_step_in_flight{model="gone",step="load"} 1',
  ]);
});

test("each instance has its own registry with the default process metrics", async () => {
  const first = new RolloutMetrics();
  const second = new RolloutMetrics();
  first.rolloutFinished("m", "promoted");
  const text = await second.expose();
  assert.match(text, /^process_cpu_user_seconds_total \d/m);
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
  assert.match(text, /# TYPE tfs_rollout_rollouts_total counter/);
  assert.doesNotMatch(text, /tfs_rollout_rollouts_total\{/);
  assert.match(second.contentType, /^text\/plain; version=0.0.4/);
  assert.doesNotMatch(await new RolloutMetrics({ defaultMetrics: false }).expose(), /process_cpu/);
});

test("beforeExpose hooks run before each scrape (in-flight steps read at scrape time); a failing hook is skipped", async () => {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  let step: string | undefined = "gate";
  const remove = metrics.beforeExpose(async () => metrics.setStepInFlight("m", step));
  metrics.beforeExpose(() => Promise.reject(new Error("journal unreadable")));
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="m",step="gate"} 1',
  ]);
  step = undefined;
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="m",step="gate"} 0',
  ]);
  remove();
  step = "verify";
  assert.deepEqual(await samples(metrics, "tfs_rollout_step_in_flight"), [
    'tfs_rollout_step_in_flight{model="m",step="gate"} 0',
  ]);
});
