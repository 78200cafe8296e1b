// Security against a real daemon (issue 9): a webhook secret never appears in its logs, even when every delivery
// fails and is retried and logged; tensors and request payloads are not logged by default (the gate's Predict).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { writeFileSync } from "node:fs";
import { waitFor } from "../helpers/emulator-harness.js";
import { daemonYaml, publish, spawnDaemon, stableVersion, startWorld } from "../helpers/rollout-world.js";
import { tally } from "./tally.js";

const SECRET = "s3cr3t-webhook-value-never-logged";
const TIMEOUT = 30_000;

test("webhook secrets and tensors never reach the daemon's logs, even on failing deliveries", async (t) => {
  let deliveries = 0;
  const receiver = createServer((_req, res) => {
    deliveries++;
    res.statusCode = 500;
    res.end("no");
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  t.after(() => new Promise((done) => receiver.close(done)));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(
    world.daemonConfig,
    daemonYaml(
      `notifications:\n  webhooks:\n    - { url: "${url}", secret_env: HOOK_SECRET, timeout: 2s, retries: 1 }`,
    ),
  );
  const daemon = spawnDaemon(world, [], { HOOK_SECRET: SECRET });
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  await waitFor("failed deliveries retried", () => deliveries >= 2, TIMEOUT);
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  const logs = daemon.stdout() + daemon.stderr();
  assert.ok(!logs.includes(SECRET), "the webhook secret is in the logs");
  for (const payload of ["float_val", "tensor_content", "instances", '"inputs"'])
    assert.ok(!logs.includes(payload), `the logs hold a request or tensor payload (${payload})`);
  tally("security_checks", "webhook secret never logged");
  tally("security_checks", "tensors and payloads not logged by default");
});
