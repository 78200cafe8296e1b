import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalVersion, Faults } from "../src/emulator/faults.js";
import { ServingError } from "../src/emulator/serving-api.js";

function clock(start = 10_000) {
  const state = { now: start };
  return { state, now: () => state.now };
}

test("faults: unavailable for N seconds by the injected clock (gRPC UNAVAILABLE, REST 503 or reset)", () => {
  const { state, now } = clock();
  const faults = new Faults({ now });
  assert.equal(faults.isUnavailable(), false);
  assert.equal(faults.unavailableError(), undefined);
  faults.makeUnavailable(3);
  assert.equal(faults.restUnavailable(), "503");
  const error = faults.unavailableError();
  assert.ok(error instanceof ServingError);
  assert.equal(error.code, "UNAVAILABLE");
  assert.match(error.message, /3 s left/);
  assert.throws(() => faults.assertAvailable(), { code: "UNAVAILABLE" });
  state.now += 2_999;
  assert.equal(faults.isUnavailable(), true);
  state.now += 1;
  assert.equal(faults.isUnavailable(), false);
  assert.doesNotThrow(() => faults.assertAvailable());
  faults.makeUnavailable(1, { rest: "reset" });
  assert.equal(faults.restUnavailable(), "reset");
  faults.makeUnavailable(0);
  assert.equal(faults.restUnavailable(), undefined);
  assert.throws(() => faults.makeUnavailable(-1), RangeError);
  assert.throws(() => faults.makeUnavailable(Number.NaN), RangeError);
});

test("faults: one listener down (`only`), the other keeps answering; without `only` both are down", () => {
  const { now } = clock();
  const faults = new Faults({ now });
  faults.makeUnavailable(5, { only: "grpc" });
  assert.equal(faults.unavailableError("grpc")?.code, "UNAVAILABLE");
  assert.equal(faults.unavailableError("rest"), undefined);
  assert.equal(faults.restUnavailable(), undefined);
  assert.doesNotThrow(() => faults.assertAvailable("rest"));
  assert.equal(faults.snapshot().unavailable?.only, "grpc");
  faults.makeUnavailable(5, { only: "rest", rest: "reset" });
  assert.equal(faults.restUnavailable(), "reset");
  assert.equal(faults.unavailableError("grpc"), undefined);
  assert.throws(() => faults.assertAvailable("rest"), { code: "UNAVAILABLE" });
  faults.makeUnavailable(5);
  assert.equal(faults.isUnavailable("grpc") && faults.isUnavailable("rest"), true);
  assert.equal(faults.snapshot().unavailable?.only, undefined);
});

test("faults: the next reload is delayed and/or failed once, then reloads are normal again", async () => {
  const slept: number[] = [];
  const faults = new Faults({ sleep: async (ms) => void slept.push(ms) });
  await faults.applyNextReload();
  assert.deepEqual(slept, []);
  faults.setNextReload({ delayMs: 250, fail: { code: "INTERNAL", message: "disk on fire" } });
  assert.deepEqual(faults.snapshot().next_reload, {
    delay_ms: 250,
    fail: { code: "INTERNAL", message: "disk on fire" },
  });
  await assert.rejects(faults.applyNextReload(), (error: unknown) => {
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, "INTERNAL");
    assert.equal(error.message, "disk on fire");
    return true;
  });
  assert.deepEqual(slept, [250]);
  await faults.applyNextReload();
  assert.deepEqual(slept, [250], "one-shot: the second reload is not delayed");
  faults.setNextReload({ delayMs: 10 });
  faults.clearNextReload();
  assert.equal(faults.takeNextReload(), undefined);
  assert.throws(() => faults.setNextReload({ fail: { code: "OK", message: "" } }), RangeError);
  assert.throws(() => faults.setNextReload({ delayMs: -1 }), RangeError);
});

test("faults: a held version stays held until released; waitUntilReleased resolves then", async () => {
  const faults = new Faults();
  faults.hold("m", "00000124");
  assert.equal(faults.isHeld("m", 124), true);
  assert.equal(faults.isHeld("m", 123), false);
  assert.deepEqual(faults.snapshot().holds, [{ model: "m", version: "124" }]);
  let released = false;
  const waiting = faults.waitUntilReleased("m", "124").then(() => (released = true));
  await Promise.resolve();
  assert.equal(released, false);
  assert.equal(faults.release("m", 124n), true);
  await waiting;
  assert.equal(released, true);
  assert.equal(faults.release("m", 124), false);
  await faults.waitUntilReleased("other", 1);
});

test("faults: reset clears everything and releases every hold", async () => {
  const faults = new Faults();
  faults.makeUnavailable(60);
  faults.setNextReload({ delayMs: 5 });
  faults.hold("a", 1);
  const waiting = faults.waitUntilReleased("a", 1);
  faults.reset();
  await waiting;
  assert.deepEqual(faults.snapshot(), { unavailable: null, next_reload: null, holds: [] });
});

test("faults: versions are compared in canonical decimal form", () => {
  assert.equal(canonicalVersion("00000123"), "123");
  assert.equal(canonicalVersion(9007199254740993n), "9007199254740993");
  assert.throws(() => canonicalVersion("12a"), RangeError);
  assert.throws(() => canonicalVersion(-1), RangeError);
});
