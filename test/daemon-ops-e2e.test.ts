// End to end: the daemon's HTTP port (/livez, /readyz, /metrics) and its webhooks, with the emulator and the daemon
// as real processes, webhook receivers on loopback.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { eventArrives, get, opsAddress, sample, sampleSum, startReceiver } from "./helpers/ops-http.js";
import {
  configState,
  daemonYaml,
  killEmulator,
  publish,
  restartEmulator,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;
const SECRET = "webhook-test-secret";

function stopOnExit(t: { after(fn: () => unknown): void }, daemon: DaemonProcess): void {
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
}

async function adopted(world: World): Promise<void> {
  await waitFor("stable resolves to 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
}

test("ops server: /livez answers without TF Serving; /readyz is 503 while TF Serving is down and 200 when up", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  const daemon = spawnDaemon(world);
  stopOnExit(t, daemon);
  const base = `http://${await opsAddress(daemon)}`;
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(base, "http://127.0.0.1:0", "port 0 is logged as the port actually bound");

  assert.equal((await get(`${base}/livez`)).status, 200);
  await waitFor("ready", async () => (await get(`${base}/readyz`)).status === 200, TIMEOUT);
  await adopted(world);

  await killEmulator(world);
  const down = await waitFor(
    "not ready while TF Serving is down",
    async () => {
      const answer = await get(`${base}/readyz`);
      return answer.status === 503 ? answer : undefined;
    },
    TIMEOUT,
  );
  assert.match(down.text, /^readyz failed\n- tfserving: 127\.0\.0\.1:\d+ unreachable/);
  const live = await get(`${base}/livez`);
  assert.equal(live.status, 200, "liveness does not depend on TF Serving");
  assert.equal(live.text, "ok\n");
  const outage = (await get(`${base}/metrics`)).text;
  assert.ok(
    sampleSum(outage, "tfs_rollout_tfserving_call_errors_total", { code: "UNAVAILABLE" }) > 0,
    "failed TF Serving calls are counted by status",
  );

  await restartEmulator(world);
  await waitFor("ready again", async () => (await get(`${base}/readyz`)).status === 200, TIMEOUT);
  assert.equal((await get(`${base}/nope`)).status, 404);

  // A version that takes a while to load: the step in flight shows in step_in_flight while it runs.
  publish(world.base, "2", { load_delay_ms: 3000 });
  await waitFor(
    "a step in flight for m",
    async () => {
      const text = (await get(`${base}/metrics`)).text;
      return /^tfs_rollout_step_in_flight\{model="m",step="[a-z-]+"\} 1$/m.test(text);
    },
    TIMEOUT,
  );
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  await waitFor(
    "nothing in flight once promoted",
    async () => !/^tfs_rollout_step_in_flight\{model="m",.*\} 1$/m.test((await get(`${base}/metrics`)).text),
    TIMEOUT,
  );

  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  await assert.rejects(fetch(`${base}/livez`), "the server is closed on exit");
});

test("metrics and signed webhooks after a promotion, an automatic and a manual rollback; dead receivers delay nothing", async (t) => {
  const good = await startReceiver("ok", SECRET);
  const hanging = await startReceiver("hang");
  const failing = await startReceiver("fail");
  t.after(() => Promise.all([good.close(), hanging.close(), failing.close()]));
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(
    world.daemonConfig,
    daemonYaml(
      [
        "notifications:",
        "  webhooks:",
        `    - { url: "${good.url}", secret_env: TEST_HOOK_SECRET, timeout: 5s, retries: 2 }`,
        `    - { url: "${hanging.url}", timeout: 1h, retries: 0 }`,
        `    - { url: "${failing.url}", timeout: 2s, retries: 10 }`,
      ].join("\n"),
    ),
  );
  const daemon = spawnDaemon(world, [], { TEST_HOOK_SECRET: SECRET });
  stopOnExit(t, daemon);
  const base = `http://${await opsAddress(daemon)}`;
  await adopted(world);

  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  const detected = await eventArrives(good, "candidate_detected", "2");
  const promoted = await eventArrives(good, "promoted", "2");
  assert.equal(promoted.model, "m");
  assert.equal(promoted.source, "tfs-rollout");
  assert.equal(promoted.details?.previous, "1");
  assert.ok(Date.parse(promoted.at) >= Date.parse(detected.at));
  assert.ok(hanging.requests >= 1, "the hanging receiver got the first event and never answered");
  assert.ok(failing.requests >= 1);

  publish(world.base, "3", { nan_outputs: true });
  const gateFailed = await eventArrives(good, "gate_failed", "3");
  assert.match(gateFailed.reason, /non-finite/);
  const automatic = await eventArrives(good, "rolled_back", "3");
  assert.equal(automatic.details?.kind, "automatic");
  assert.equal(await stableVersion(world), "2", "stable kept answering");
  await waitFor(
    "3 rejected",
    () => daemon.events().some((e) => e.step === "record-verdict" && e.version === "3"),
    TIMEOUT,
  );

  const state = await openLocalState(world.stateDir);
  await state.intents.put({ model: "m", kind: "rollback", args: { to: "1" }, by: "cli:tester" });
  const manual = await eventArrives(good, "rolled_back", "2");
  assert.equal(manual.details?.kind, "manual");
  assert.equal(manual.details?.by, "cli:tester");
  assert.equal(manual.details?.stable, "1");
  await waitFor("stable → 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
  await waitFor("2 taken out", () => !configState(world).specific.includes("2"), TIMEOUT);

  const ids = good.received.map((event) => event.id);
  assert.equal(new Set(ids).size, ids.length, "every delivery has its own id");
  assert.deepEqual(good.rejected, [], "every signature verified");
  assert.deepEqual(
    good.received.map((event) => `${event.type} ${event.version}`),
    [
      "candidate_detected 2",
      "promoted 2",
      "candidate_detected 3",
      "gate_failed 3",
      "rolled_back 3",
      "rolled_back 2",
    ],
  );

  const metrics = await waitFor(
    "rollout counters",
    async () => {
      const text = (await get(`${base}/metrics`)).text;
      return sample(text, "tfs_rollout_rollouts_total", { model: "m", outcome: "rolled_back" }) === 1
        ? text
        : undefined;
    },
    TIMEOUT,
  );
  const m = { model: "m" };
  assert.equal(sample(metrics, "tfs_rollout_rollouts_total", { ...m, outcome: "promoted" }), 1);
  assert.equal(sample(metrics, "tfs_rollout_rollouts_total", { ...m, outcome: "rejected" }), 1);
  assert.equal(sample(metrics, "tfs_rollout_rollbacks_total", { ...m, kind: "automatic" }), 1);
  assert.equal(sample(metrics, "tfs_rollout_rollbacks_total", { ...m, kind: "manual" }), 1);
  assert.equal(sample(metrics, "tfs_rollout_stable_version", m), 1);
  assert.equal(sample(metrics, "tfs_rollout_detection_to_promotion_seconds_count", m), 1);
  assert.ok(sampleSum(metrics, "tfs_rollout_gate_checks_total", { ...m, outcome: "pass" }) >= 1);
  assert.ok(sampleSum(metrics, "tfs_rollout_gate_checks_total", { ...m, outcome: "fail" }) >= 1);
  assert.doesNotMatch(
    metrics,
    /gate_checks_total\{[^}]*check="[^"]*\d/,
    "no version numbers in check labels",
  );
  assert.ok(
    (sample(metrics, "tfs_rollout_tfserving_call_duration_seconds_count", {
      method: "ModelService/GetModelStatus",
    }) ?? 0) > 0,
  );
  assert.ok(
    (sample(metrics, "tfs_rollout_tfserving_call_duration_seconds_count", {
      method: "ModelService/HandleReloadConfigRequest",
    }) ?? 0) > 0,
  );
  assert.match(metrics, /^process_cpu_user_seconds_total /m, "stock process metrics are there too");

  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0, "a hanging receiver does not keep the daemon from exiting");
  assert.equal(daemon.stderr(), "");
  const events = daemon.events();
  for (const url of [hanging.url, failing.url])
    assert.ok(
      events.some((e) => /^webhook (dropped|failed)$/.test(String(e.msg)) && e.url === url),
      `undelivered events to ${url} are logged`,
    );
  assert.ok(events.some((e) => e.msg === "webhooks: some events were not delivered"));
});
