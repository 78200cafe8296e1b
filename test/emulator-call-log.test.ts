import assert from "node:assert/strict";
import { test } from "node:test";
import { CallLog } from "../src/emulator/call-log.js";

test("call log: records calls with the log's clock and filters by every field", () => {
  let now = 100;
  const log = new CallLog({ now: () => now++ });
  log.record({
    transport: "grpc",
    method: "HandleReloadConfigRequest",
    config: { model_config_list: {} },
    code: "OK",
  });
  log.record({ transport: "rest", method: "Predict", model: "m", version: "2", code: "OK" });
  log.record({
    transport: "grpc",
    method: "Predict",
    model: "m",
    label: "stable",
    code: "NOT_FOUND",
    at: 500,
  });
  assert.equal(log.size, 3);
  assert.deepEqual(log.list()[0], {
    at: 100,
    transport: "grpc",
    method: "HandleReloadConfigRequest",
    config: { model_config_list: {} },
    code: "OK",
  });
  assert.deepEqual(
    log.list({ method: "Predict" }).map((c) => c.transport),
    ["rest", "grpc"],
  );
  assert.equal(log.count({ transport: "grpc" }), 2);
  assert.equal(log.count({ model: "m", version: "2" }), 1);
  assert.equal(log.count({ label: "stable" }), 1);
  assert.equal(log.count({ code: "NOT_FOUND" }), 1);
  assert.equal(log.count({ since: 101 }), 2);
  assert.equal(log.last({ method: "Predict" })!.code, "NOT_FOUND");
  assert.equal(log.last({ model: "nope" }), undefined);
});

test("call log: bounded; the oldest records are dropped and counted", () => {
  const log = new CallLog({ limit: 2, now: () => 0 });
  for (const method of ["a", "b", "c"]) log.record({ transport: "rest", method, code: "OK" });
  assert.deepEqual(
    log.list().map((c) => c.method),
    ["b", "c"],
  );
  assert.equal(log.dropped, 1);
  log.clear();
  assert.equal(log.size, 0);
  assert.equal(log.dropped, 0);
  assert.throws(() => new CallLog({ limit: 0 }), RangeError);
});

test("call log: returns copies, and undefined fields are not stored", () => {
  const log = new CallLog({ now: () => 1 });
  log.record({ transport: "rest", method: "Predict", model: undefined, code: "OK" });
  const [first] = log.list();
  assert.equal("model" in first!, false);
  first!.code = "CHANGED";
  assert.equal(log.list()[0]!.code, "OK");
});
