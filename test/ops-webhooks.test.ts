import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { RolloutError } from "../src/errors.js";
import type { RolloutEvent, WebhookPayload } from "../src/ops/events.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from "../src/ops/signature.js";
import { WebhookNotifier, type DeliveryResult, type WebhookNotifierOptions } from "../src/ops/webhooks.js";

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback webhook receiver; `answer` decides each response by request number (1-based), "hang" never answers. */
async function startReceiver(answer: (n: number) => number | "hang" = () => 204) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({ headers: request.headers, body: Buffer.concat(chunks) });
    const status = answer(received.length);
    server.emit("received");
    if (status === "hang") hanging.push(response);
    else response.writeHead(status).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    async waitFor(count: number): Promise<void> {
      while (received.length < count) await once(server, "received");
    },
    async close(): Promise<void> {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Collects onResult reports and lets a test wait for a number of them. */
function results() {
  const list: DeliveryResult[] = [];
  const waiters: (() => void)[] = [];
  return {
    list,
    onResult: (result: DeliveryResult) => {
      list.push(result);
      waiters.splice(0).forEach((wake) => wake());
    },
    async waitFor(count: number): Promise<void> {
      while (list.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
  };
}

function event(type: RolloutEvent["type"], version = "7"): RolloutEvent {
  return {
    type,
    model: "half_plus_two",
    version,
    reason: `reason for ${type}`,
    at: "2026-11-22T00:00:00.000Z",
    details: { stable: "6", checks: [1, 2] },
  };
}

const fastBackoff: WebhookNotifierOptions["backoff"] = { initialMs: 1, maxMs: 1, jitter: 0 };

test("signed events arrive as JSON POSTs that verify against the exact body bytes", async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const notifier = new WebhookNotifier({ targets: [{ url: receiver.url, secret: "s3cret" }] });
  notifier.notify(event("candidate_detected"));
  notifier.notify(event("promoted"));
  await receiver.waitFor(2);
  const stats = await notifier.close();
  assert.equal(stats.delivered, 2);

  const payloads = receiver.received.map(({ headers, body }) => {
    assert.equal(headers["content-type"], "application/json");
    assert.match(String(headers[SIGNATURE_HEADER]), /^sha256=[0-9a-f]{64}$/);
    const verdict = verifySignature({
      secret: "s3cret",
      body,
      signature: headers[SIGNATURE_HEADER] as string,
      timestamp: headers[TIMESTAMP_HEADER] as string,
    });
    assert.deepEqual(verdict, { ok: true });
    const wrongKey = verifySignature({
      secret: "other",
      body,
      signature: headers[SIGNATURE_HEADER] as string,
      timestamp: headers[TIMESTAMP_HEADER] as string,
    });
    assert.equal(wrongKey.ok, false);
    const payload = JSON.parse(body.toString()) as WebhookPayload;
    assert.equal(headers["x-tfs-rollout-event"], payload.type);
    assert.equal(headers["x-tfs-rollout-delivery"], payload.id);
    return payload;
  });
  assert.deepEqual(
    payloads.map((p) => p.type),
    ["candidate_detected", "promoted"],
  );
  const { id, ...rest } = payloads[1]!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(rest, { source: "tfs-rollout", ...event("promoted") });
  assert.notEqual(payloads[0]!.id, payloads[1]!.id);
});

test("without a secret the POST carries no signature headers", async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const notifier = new WebhookNotifier({ targets: [{ url: receiver.url }] });
  notifier.notify(event("gate_failed"));
  await notifier.close();
  assert.equal(receiver.received.length, 1);
  assert.equal(receiver.received[0]!.headers[SIGNATURE_HEADER], undefined);
  assert.equal(receiver.received[0]!.headers[TIMESTAMP_HEADER], undefined);
});

test("a 500 is retried with the same delivery id until the receiver accepts", async (t) => {
  const receiver = await startReceiver((n) => (n <= 2 ? 500 : 200));
  t.after(() => receiver.close());
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url: receiver.url, secret: "k", retries: 3 }],
    backoff: fastBackoff,
    onResult: seen.onResult,
  });
  notifier.notify(event("rolled_back"));
  await seen.waitFor(1);
  assert.equal(seen.list[0]!.outcome, "delivered");
  assert.equal(seen.list[0]!.attempts, 3);
  const ids = new Set(receiver.received.map((r) => r.headers["x-tfs-rollout-delivery"]));
  assert.equal(receiver.received.length, 3);
  assert.equal(ids.size, 1);
  for (const { headers, body } of receiver.received) {
    const verdict = verifySignature({
      secret: "k",
      body,
      signature: headers[SIGNATURE_HEADER] as string,
      timestamp: headers[TIMESTAMP_HEADER] as string,
    });
    assert.deepEqual(verdict, { ok: true });
  }
  assert.deepEqual(await notifier.close(), { delivered: 1, failed: 0, dropped: 0, pending: 0 });
});

test("retries run out: the event is reported failed with the last error", async (t) => {
  const receiver = await startReceiver(() => 503);
  t.after(() => receiver.close());
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url: receiver.url, retries: 1 }],
    backoff: fastBackoff,
    onResult: seen.onResult,
  });
  notifier.notify(event("stuck_past_deadline"));
  await seen.waitFor(1);
  assert.equal(seen.list[0]!.outcome, "failed");
  assert.equal(seen.list[0]!.attempts, 2);
  assert.match(seen.list[0]!.error!, /HTTP 503/);
  assert.equal(receiver.received.length, 2);
  assert.equal((await notifier.close()).failed, 1);
});

test("a 4xx other than 408/429 is not retried", async (t) => {
  const receiver = await startReceiver(() => 401);
  t.after(() => receiver.close());
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url: receiver.url, retries: 5 }],
    backoff: fastBackoff,
    onResult: seen.onResult,
  });
  notifier.notify(event("approval_waiting"));
  await seen.waitFor(1);
  assert.equal(seen.list[0]!.outcome, "failed");
  assert.equal(seen.list[0]!.attempts, 1);
  assert.match(seen.list[0]!.error!, /HTTP 401/);
  await notifier.close();
});

test("a connection refused is retried and then reported failed", async () => {
  const gone = await startReceiver();
  const url = gone.url;
  await gone.close();
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url, retries: 2 }],
    backoff: fastBackoff,
    onResult: seen.onResult,
  });
  notifier.notify(event("promoted"));
  await seen.waitFor(1);
  assert.equal(seen.list[0]!.outcome, "failed");
  assert.equal(seen.list[0]!.attempts, 3);
  assert.match(seen.list[0]!.error!, /request failed/);
  await notifier.close();
});

test("a hanging receiver is given up on after the timeout", async (t) => {
  const hanging = await startReceiver(() => "hang");
  t.after(() => hanging.close());
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url: hanging.url, timeoutMs: 50, retries: 1 }],
    backoff: fastBackoff,
    onResult: seen.onResult,
  });
  assert.equal(notifier.notify(event("promoted")), undefined);
  assert.equal(notifier.stats.pending, 1, "notify() returned before the delivery finished");
  await seen.waitFor(1);
  assert.equal(seen.list[0]!.outcome, "failed");
  assert.equal(seen.list[0]!.attempts, 2);
  assert.match(seen.list[0]!.error!, /no response within 50 ms/);
  await notifier.close();
});

test("a hanging receiver holds up neither notify() nor the other receivers", async (t) => {
  const hanging = await startReceiver(() => "hang");
  const healthy = await startReceiver();
  t.after(() => Promise.all([hanging.close(), healthy.close()]));
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [
      { url: hanging.url, timeoutMs: 60_000, retries: 0 },
      { url: healthy.url, retries: 0 },
    ],
    onResult: seen.onResult,
  });
  notifier.notify(event("promoted", "1"));
  notifier.notify(event("promoted", "2"));
  await seen.waitFor(2);
  await hanging.waitFor(1);
  assert.deepEqual(
    seen.list.map((r) => [r.url, r.event.version, r.outcome]),
    [
      [healthy.url, "1", "delivered"],
      [healthy.url, "2", "delivered"],
    ],
  );
  assert.equal(notifier.stats.pending, 2, "the hanging receiver's events are still pending");
  const stats = await notifier.close(20);
  assert.deepEqual(stats, { delivered: 2, failed: 0, dropped: 2, pending: 0 });
});

test("the queue is bounded: the oldest waiting events are dropped and counted", async (t) => {
  const receiver = await startReceiver(() => "hang");
  t.after(() => receiver.close());
  const seen = results();
  const notifier = new WebhookNotifier({
    targets: [{ url: receiver.url, timeoutMs: 60_000, retries: 0 }],
    queueLimit: 2,
    onResult: seen.onResult,
  });
  for (const version of ["1", "2", "3", "4", "5"]) notifier.notify(event("candidate_detected", version));
  // 1 is in flight, 2 and 3 were pushed out of the queue by 4 and 5.
  assert.deepEqual(
    seen.list.map((r) => [r.event.version, r.outcome]),
    [
      ["2", "dropped"],
      ["3", "dropped"],
    ],
  );
  assert.equal(notifier.stats.dropped, 2);
  assert.equal(notifier.stats.pending, 3);
  await receiver.waitFor(1);

  // close() gives up at its deadline: the in-flight POST is aborted and the queued events dropped.
  const stats = await notifier.close(20);
  assert.deepEqual(stats, { delivered: 0, failed: 0, dropped: 5, pending: 0 });
  assert.deepEqual(seen.list.map((r) => r.event.version).sort(), ["1", "2", "3", "4", "5"]);
  assert.equal(receiver.received.length, 1);
});

test("close() waits for queued deliveries and later notifies are dropped", async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const seen = results();
  const notifier = new WebhookNotifier({ targets: [{ url: receiver.url }], onResult: seen.onResult });
  for (const version of ["1", "2", "3"]) notifier.notify(event("promoted", version));
  const stats = await notifier.close(60_000);
  assert.deepEqual(stats, { delivered: 3, failed: 0, dropped: 0, pending: 0 });
  assert.deepEqual(
    receiver.received.map((r) => (JSON.parse(r.body.toString()) as WebhookPayload).version),
    ["1", "2", "3"],
  );
  notifier.notify(event("promoted", "4"));
  assert.equal(seen.list.at(-1)!.outcome, "dropped");
  assert.equal(seen.list.at(-1)!.error, "notifier closed");
  assert.equal(receiver.received.length, 3);
});

test("a throwing onResult does not stop deliveries", async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const notifier = new WebhookNotifier({
    targets: [{ url: receiver.url }],
    onResult: () => {
      throw new Error("observer bug");
    },
  });
  notifier.notify(event("promoted", "1"));
  notifier.notify(event("promoted", "2"));
  assert.equal((await notifier.close()).delivered, 2);
});

test("queueLimit must be at least 1 and URLs must be http(s)", () => {
  assert.throws(() => new WebhookNotifier({ targets: [], queueLimit: 0 }), /queueLimit must be >= 1/);
  for (const url of ["hooks.example/a", "ftp://hooks.example/a", ""])
    assert.throws(
      () => new WebhookNotifier({ targets: [{ url: "http://ok.example/" }, { url }] }),
      (error: unknown) =>
        error instanceof RolloutError &&
        error.where === "notifications.webhooks[1].url" &&
        error.message.includes(`"${url}" is not an http:// or https:// URL`),
    );
});

test("a target with an events filter gets only those event types; the others get every event", async () => {
  const filtered = await startReceiver();
  const all = await startReceiver();
  const notifier = new WebhookNotifier({
    targets: [{ url: filtered.url, events: ["rolled_back", "gate_failed"] }, { url: all.url }],
  });
  try {
    for (const type of ["candidate_detected", "gate_failed", "promoted", "rolled_back"] as const)
      notifier.notify(event(type));
    await all.waitFor(4);
    await filtered.waitFor(2);
    await notifier.close();
    const types = (r: { received: Received[] }) =>
      r.received.map((x) => (JSON.parse(x.body.toString()) as WebhookPayload).type);
    assert.deepEqual(types(filtered), ["gate_failed", "rolled_back"]);
    assert.deepEqual(types(all), ["candidate_detected", "gate_failed", "promoted", "rolled_back"]);
    assert.deepEqual(notifier.stats, { delivered: 6, failed: 0, dropped: 0, pending: 0 });
  } finally {
    await filtered.close();
    await all.close();
  }
});
