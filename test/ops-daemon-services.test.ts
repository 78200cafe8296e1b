import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import type { DaemonConfig } from "../src/daemon-config/types.js";
import { createEngineLogger } from "../src/engine/logger.js";
import { RolloutError } from "../src/errors.js";
import { DaemonServices } from "../src/ops/daemon-services.js";
import { createHeartbeat } from "../src/systemd/heartbeat.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

async function config(http: string, yaml = ""): Promise<DaemonConfig> {
  const file = "/cfg/d.yaml";
  return loadDaemonConfig({ config: file, modelConfigFile: "/m", http }, {}, memoryReader({ [file]: yaml }));
}

function logger() {
  const lines: Record<string, unknown>[] = [];
  const log = createEngineLogger({
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}

test("the ops server: /livez from the heartbeat, /readyz from start-up and TF Serving, /metrics; closed by close()", async () => {
  const { log, lines } = logger();
  let now = 0;
  const heartbeat = createHeartbeat(1000, () => now);
  const ops = await DaemonServices.start({ config: await config("127.0.0.1:0"), env: {}, log, heartbeat });
  try {
    const base = `http://${ops.address}`;
    assert.match(ops.address ?? "", /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(lines.find((l) => l.msg === "ops server listening")?.address, ops.address);
    assert.equal((await fetch(`${base}/livez`)).status, 200);
    const starting = await fetch(`${base}/readyz`);
    assert.equal(starting.status, 503);
    assert.equal(
      await starting.text(),
      "readyz failed\n- daemon: starting: watchers not running yet\n- tfserving: 127.0.0.1:8500 not contacted yet\n",
    );
    ops.markStarted();
    ops.health.observe("ModelService/GetModelStatus", 1, "OK");
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    ops.metrics.rolloutFinished("m", "promoted");
    const metrics = await fetch(`${base}/metrics`);
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await metrics.text(), /^tfs_rollout_rollouts_total\{model="m",outcome="promoted"\} 1$/m);
    now = 5000; // the main loop stopped beating
    const stale = await fetch(`${base}/livez`);
    assert.equal(stale.status, 503);
    assert.match(await stale.text(), /main loop heartbeat is stale/);
  } finally {
    await ops.close();
  }
  await assert.rejects(fetch(`http://${ops.address}/livez`));
});

test("http.listen off starts no server; a port in use is a clear error naming http.listen and the fix", async () => {
  const { log } = logger();
  const heartbeat = createHeartbeat(1000);
  const off = await DaemonServices.start({ config: await config("off"), env: {}, log, heartbeat });
  assert.equal(off.address, undefined);
  await off.close();

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  try {
    const port = (taken.address() as AddressInfo).port;
    await assert.rejects(
      DaemonServices.start({ config: await config(`127.0.0.1:${port}`), env: {}, log, heartbeat }),
      (error: unknown) =>
        error instanceof RolloutError &&
        /cannot listen for the ops HTTP server/.test(error.message) &&
        error.where === `127.0.0.1:${port}` &&
        /--http HOST:PORT/.test(error.hint ?? ""),
    );
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test("a webhook secret variable that is not set stops the start with the key to fix; SIGHUP keeps the old webhooks on error", async () => {
  const { log, lines } = logger();
  const heartbeat = createHeartbeat(1000);
  const yaml = "notifications:\n  webhooks:\n    - { url: http://127.0.0.1:9/h, secret_env: HOOK_KEY }\n";
  const withHook = await config("off", yaml);
  await assert.rejects(
    DaemonServices.start({ config: withHook, env: {}, log, heartbeat }),
    (error: unknown) =>
      error instanceof RolloutError && error.where === "notifications.webhooks[0].secret_env",
  );
  const plain = await config("off");
  const ops = await DaemonServices.start({ config: plain, env: {}, log, heartbeat });
  ops.applyConfig(plain, withHook);
  assert.ok(lines.some((l) => l.msg === "SIGHUP: webhooks not changed" && /HOOK_KEY/.test(String(l.reason))));
  ops.applyConfig(plain, await config("127.0.0.1:1"));
  assert.ok(lines.some((l) => l.msg === "http.listen changed: it applies when the daemon restarts"));
  await ops.close();
});
