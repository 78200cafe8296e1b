import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { startOpsServer, type CheckResult, type OpsServerOptions } from "../src/ops/http-server.js";
import { parseListenAddress } from "../src/ops/listen-address.js";
import { RolloutMetrics } from "../src/ops/metrics.js";

async function start(overrides: Partial<OpsServerOptions> = {}) {
  const metrics = new RolloutMetrics({ defaultMetrics: false });
  const server = await startOpsServer({
    listen: parseListenAddress("127.0.0.1:0"),
    livez: () => ({ ok: true }),
    readyz: async () => ({ ok: true }),
    metrics,
    ...overrides,
  });
  return { server, metrics };
}

test("/livez and /readyz answer 200 ok when their checks pass", async (t) => {
  const { server } = await start();
  t.after(() => server.close());
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(server.port, 0);
  for (const path of ["/livez", "/readyz", "/readyz?verbose"]) {
    const response = await fetch(server.url + path);
    assert.equal(response.status, 200, path);
    assert.equal(await response.text(), "ok\n");
    assert.equal(response.headers.get("cache-control"), "no-store");
  }
});

test("failing checks answer 503 with one reason per line, and recover", async (t) => {
  let ready: CheckResult = {
    ok: false,
    reasons: ["config: not loaded yet", "tfserving: 127.0.0.1:8500 unreachable"],
  };
  const { server } = await start({
    livez: () => ({ ok: false, reasons: ["main loop heartbeat is stale"] }),
    readyz: async () => ready,
  });
  t.after(() => server.close());
  const livez = await fetch(`${server.url}/livez`);
  assert.equal(livez.status, 503);
  assert.equal(await livez.text(), "livez failed\n- main loop heartbeat is stale\n");
  const readyz = await fetch(`${server.url}/readyz`);
  assert.equal(readyz.status, 503);
  assert.equal(
    await readyz.text(),
    "readyz failed\n- config: not loaded yet\n- tfserving: 127.0.0.1:8500 unreachable\n",
  );
  ready = { ok: true };
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
});

test("a check that throws or never answers counts as failed", async (t) => {
  const { server } = await start({
    livez: () => {
      throw new Error("boom");
    },
    readyz: () => new Promise<CheckResult>(() => undefined),
    checkTimeoutMs: 20,
  });
  t.after(() => server.close());
  const livez = await fetch(`${server.url}/livez`);
  assert.equal(livez.status, 503);
  assert.match(await livez.text(), /livez check threw: boom/);
  const readyz = await fetch(`${server.url}/readyz`);
  assert.equal(readyz.status, 503);
  assert.match(await readyz.text(), /readyz check did not answer within 20 ms/);
});

test("/metrics serves the Prometheus text of the registry", async (t) => {
  const { server, metrics } = await start();
  t.after(() => server.close());
  metrics.rolloutFinished("half_plus_two", "promoted");
  metrics.setStableVersion("half_plus_two", "123");
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^tfs_rollout_rollouts_total\{model="half_plus_two",outcome="promoted"\} 1$/m);
  assert.match(text, /^tfs_rollout_stable_version\{model="half_plus_two"\} 123$/m);
});

test("HEAD works, other methods get 405 and other paths 404", async (t) => {
  const { server } = await start();
  t.after(() => server.close());
  const head = await fetch(`${server.url}/livez`, { method: "HEAD" });
  assert.equal(head.status, 200);
  const post = await fetch(`${server.url}/readyz`, { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
  for (const path of ["/", "/healthz", "/metrics/extra", "/constructor", "/__proto__"]) {
    const response = await fetch(server.url + path);
    assert.equal(response.status, 404, path);
    assert.match(await response.text(), /try \/livez, \/readyz or \/metrics/);
  }
});

test("a metrics source that fails gives 500 without killing the server", async (t) => {
  const { server } = await start({
    metrics: { contentType: "text/plain", expose: () => Promise.reject(new Error("collector broke")) },
  });
  t.after(() => server.close());
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 500);
  assert.match(await response.text(), /collector broke/);
  assert.equal((await fetch(`${server.url}/livez`)).status, 200);
});

test("a taken port is a RolloutError naming the address with a hint", async (t) => {
  const blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as AddressInfo).port;
  await assert.rejects(
    start({ listen: { host: "127.0.0.1", port } }),
    (error: unknown) =>
      error instanceof RolloutError &&
      error.where === `127.0.0.1:${port}` &&
      /cannot listen/.test(error.message) &&
      /another process uses this port/.test(error.hint ?? ""),
  );
});

test("close() stops listening, even with a keep-alive connection open", async () => {
  const { server } = await start();
  const response = await fetch(`${server.url}/livez`, { headers: { connection: "keep-alive" } });
  await response.text();
  await server.close();
  await assert.rejects(fetch(`${server.url}/livez`));
});
