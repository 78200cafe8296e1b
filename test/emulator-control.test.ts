import assert from "node:assert/strict";
import { after, test } from "node:test";
import { CallLog } from "../src/emulator/call-log.js";
import { isLoopback, startControlServer } from "../src/emulator/control-server.js";
import { Faults } from "../src/emulator/faults.js";

async function startControl() {
  let now = 50_000;
  const faults = new Faults({ now: () => now });
  const callLog = new CallLog({ now: () => now });
  const server = await startControlServer({ faults, callLog });
  after(() => server.close());
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    assert.equal(response.headers.get("content-type"), "application/json");
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  return { call, faults, callLog, advance: (ms: number) => (now += ms) };
}

test("control: GET /calls lists the log with filters; DELETE /calls clears it", async () => {
  const { call, callLog } = await startControl();
  const config = { a: 1, bytes: Buffer.from("hi"), big: 2n ** 63n - 1n };
  callLog.record({ transport: "grpc", method: "HandleReloadConfigRequest", config, code: "OK" });
  callLog.record({ transport: "rest", method: "Predict", model: "m", version: "3", code: "NOT_FOUND" });
  const all = await call("GET", "/calls");
  assert.equal(all.status, 200);
  assert.equal((all.json.calls as unknown[]).length, 2);
  assert.equal(all.json.dropped, 0);
  const [reload] = all.json.calls as { config: unknown }[];
  assert.deepEqual(reload!.config, { a: 1, bytes: "aGk=", big: "9223372036854775807" });
  const filtered = await call("GET", "/calls?transport=rest&model=m&version=3&code=NOT_FOUND");
  assert.deepEqual(filtered.json.calls, [
    { transport: "rest", method: "Predict", model: "m", version: "3", code: "NOT_FOUND", at: 50_000 },
  ]);
  assert.deepEqual((await call("GET", "/calls?method=Nope")).json.calls, []);
  const bad = await call("GET", "/calls?colour=red");
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /unknown filter "colour"/);
  assert.ok(bad.json.hint);
  assert.deepEqual((await call("DELETE", "/calls")).json, { cleared: 2 });
  assert.equal(callLog.size, 0);
});

test("control: POST /faults/unavailable makes the shared Faults unavailable for that long", async () => {
  const { call, faults, advance } = await startControl();
  const reply = await call("POST", "/faults/unavailable", { seconds: 2, rest: "reset" });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json.unavailable, { until: 52_000, remaining_ms: 2_000, rest: "reset" });
  assert.equal(faults.restUnavailable(), "reset");
  advance(2_000);
  assert.equal(faults.isUnavailable(), false);
  assert.equal((await call("GET", "/faults")).json.unavailable, null);
  const bad = await call("POST", "/faults/unavailable", { seconds: "ten" });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /seconds/);
});

test("control: POST /faults/unavailable with only takes down one listener; a bad listener name is a 400", async () => {
  const { call, faults } = await startControl();
  const reply = await call("POST", "/faults/unavailable", { seconds: 2, only: "rest" });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json.unavailable, { until: 52_000, remaining_ms: 2_000, rest: "503", only: "rest" });
  assert.equal(faults.isUnavailable("grpc"), false);
  assert.equal(faults.restUnavailable(), "503");
  const bad = await call("POST", "/faults/unavailable", { seconds: 2, only: "http" });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /only/);
});

test("control: POST /faults/reload arms a one-shot delay/failure; DELETE disarms it", async () => {
  const { call, faults } = await startControl();
  const armed = await call("POST", "/faults/reload", {
    delay_ms: 300,
    fail: { code: "UNAVAILABLE", message: "later" },
  });
  assert.deepEqual(armed.json.next_reload, {
    delay_ms: 300,
    fail: { code: "UNAVAILABLE", message: "later" },
  });
  assert.deepEqual(faults.takeNextReload(), {
    delayMs: 300,
    fail: { code: "UNAVAILABLE", message: "later" },
  });
  await call("POST", "/faults/reload", { delay_ms: 1 });
  assert.equal((await call("DELETE", "/faults/reload")).json.next_reload, null);
  const badCode = await call("POST", "/faults/reload", { fail: { code: "NOPE", message: "" } });
  assert.equal(badCode.status, 400);
  assert.match(String(badCode.json.error), /fail\.code/);
  const notJson = await call("POST", "/faults/reload", "{oops");
  assert.equal(notJson.status, 400);
  assert.match(String(notJson.json.error), /not JSON/);
});

test("control: POST /faults/hold keeps a version LOADING until DELETE /faults/hold releases it", async () => {
  const { call, faults } = await startControl();
  assert.deepEqual((await call("POST", "/faults/hold", { model: "m", version: 124 })).json.holds, [
    { model: "m", version: "124" },
  ]);
  let released = false;
  const waiting = faults.waitUntilReleased("m", 124).then(() => (released = true));
  assert.equal(released, false);
  assert.equal((await call("DELETE", "/faults/hold?model=m&version=124")).status, 200);
  await waiting;
  assert.equal(released, true);
  const again = await call("DELETE", "/faults/hold", { model: "m", version: "124" });
  assert.equal(again.status, 404);
  assert.match(String(again.json.error), /not held/);
  assert.equal((await call("POST", "/faults/hold", { model: "m" })).status, 400);
});

test("control: DELETE /faults resets everything; unknown paths 404 and wrong methods 405", async () => {
  const { call, faults } = await startControl();
  faults.makeUnavailable(10);
  faults.hold("m", 1);
  assert.deepEqual((await call("DELETE", "/faults")).json, {
    unavailable: null,
    next_reload: null,
    holds: [],
  });
  assert.equal((await call("GET", "/nope")).status, 404);
  const wrong = await call("GET", "/faults/unavailable");
  assert.equal(wrong.status, 405);
  assert.match(String(wrong.json.hint), /POST/);
});

test("control: loopback only (binds loopback; remote addresses are checked)", async () => {
  await assert.rejects(
    startControlServer({ faults: new Faults(), callLog: new CallLog(), host: "0.0.0.0" }),
    RangeError,
  );
  assert.equal(isLoopback("127.0.0.1"), true);
  assert.equal(isLoopback("127.8.9.10"), true);
  assert.equal(isLoopback("::1"), true);
  assert.equal(isLoopback("::ffff:127.0.0.1"), true);
  assert.equal(isLoopback("10.0.0.5"), false);
  assert.equal(isLoopback("::ffff:192.168.1.2"), false);
  assert.equal(isLoopback(undefined), false);
});
