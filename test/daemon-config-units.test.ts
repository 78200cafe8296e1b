import assert from "node:assert/strict";
import { test } from "node:test";
import { parseByteSize } from "../src/daemon-config/byte-size.js";
import { formatDuration, MAX_TIMER_MS, parseDuration } from "../src/daemon-config/duration.js";

test("durations: every unit, fractions, and plain numbers of milliseconds", () => {
  const cases: [unknown, number][] = [
    ["500ms", 500],
    ["2s", 2000],
    ["1.5s", 1500],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["0s", 0],
    [0, 0],
    [2500, 2500],
  ];
  for (const [input, ms] of cases) assert.deepEqual(parseDuration(input), { ok: true, ms }, String(input));
});

test("durations are strict: spaces, long unit names, upper case, compounds and signs are rejected", () => {
  for (const input of [
    "2 sec",
    "2 s",
    "2sec",
    "2S",
    "1h30m",
    "-1s",
    "+1s",
    "s",
    "",
    "1e3",
    " 2s",
    "2s ",
    "1.s",
  ])
    assert.deepEqual(parseDuration(input), { ok: false, reason: "is not a duration" }, JSON.stringify(input));
  assert.equal(parseDuration(true).ok, false);
  assert.equal(parseDuration(null).ok, false);
  assert.deepEqual(parseDuration(-5), { ok: false, reason: "is negative" });
  assert.deepEqual(parseDuration(1.5), { ok: false, reason: "is not a whole number of milliseconds" });
  assert.deepEqual(parseDuration("0.5ms"), { ok: false, reason: "is not a whole number of milliseconds" });
  assert.deepEqual(parseDuration(Infinity), { ok: false, reason: "is not a finite number of milliseconds" });
});

test("durations longer than a Node timer can wait are rejected (they would fire at once)", () => {
  assert.deepEqual(parseDuration(MAX_TIMER_MS), { ok: true, ms: MAX_TIMER_MS });
  assert.equal(parseDuration(MAX_TIMER_MS + 1).ok, false);
  assert.equal(parseDuration("25d").ok, false);
  assert.equal(parseDuration("24d").ok, true);
});

test("formatDuration picks the largest exact unit and round-trips", () => {
  assert.equal(formatDuration(2000), "2s");
  assert.equal(formatDuration(1500), "1500ms");
  assert.equal(formatDuration(600_000), "10m");
  assert.equal(formatDuration(0), "0ms");
  for (const ms of [0, 1, 999, 1000, 61_000, 3_600_000, 86_400_000 * 3])
    assert.deepEqual(parseDuration(formatDuration(ms)), { ok: true, ms });
});

test("byte sizes: bytes and binary units only", () => {
  assert.deepEqual(parseByteSize(4194304), { ok: true, bytes: 4194304 });
  assert.deepEqual(parseByteSize("512KiB"), { ok: true, bytes: 512 * 1024 });
  assert.deepEqual(parseByteSize("64MiB"), { ok: true, bytes: 64 * 1024 * 1024 });
  assert.deepEqual(parseByteSize("1GiB"), { ok: true, bytes: 1024 ** 3 });
  for (const input of ["64MB", "64 MiB", "64mib", "1.5MiB", "", true])
    assert.equal(parseByteSize(input).ok, false, JSON.stringify(input));
  assert.equal(parseByteSize(0).ok, false);
  assert.equal(parseByteSize(1.5).ok, false);
  assert.equal(parseByteSize("2GiB").ok, false, "gRPC's limit is a signed 32-bit integer");
});
