// The daemon's clocks: durations on a steady clock that a wall-clock step does not move, calendars (promotion
// windows, the retention schedule) read on the wall clock and carried onto the steady scale for plan().
import assert from "node:assert/strict";
import { test } from "node:test";
import { configForModel } from "../src/daemon-config/model-view.js";
import { normalizeDaemonConfig } from "../src/daemon-config/normalize.js";
import { planOptionsFor } from "../src/engine/plan-options.js";
import { steadyClock } from "../src/engine/steady-clock.js";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

test("steadyClock: anchored once on the wall clock, then moves only with the monotonic clock", () => {
  const fake = { wall: at("2026-11-22T12:00:00Z"), mono: 1_000.4 };
  const now = steadyClock(
    () => fake.wall,
    () => fake.mono,
  );
  assert.equal(now(), at("2026-11-22T12:00:00Z"));
  fake.mono += 1_500;
  fake.wall += 6 * HOUR; // NTP steps the wall clock forward...
  assert.equal(now(), at("2026-11-22T12:00:01.500Z"));
  fake.wall -= 12 * HOUR; // ...and back
  fake.mono += 500;
  assert.equal(now(), at("2026-11-22T12:00:02Z"));
});

test("steadyClock: defaults to Date.now and performance.now, epoch milliseconds as whole numbers", () => {
  const now = steadyClock();
  const first = now();
  assert.ok(Number.isInteger(first));
  assert.ok(Math.abs(first - Date.now()) < 60_000);
  assert.ok(now() >= first);
});

test("planOptionsFor: windows and the retention schedule are read on the wall clock, their instants carried onto the planning clock", () => {
  const config = normalizeDaemonConfig(
    {
      model_config_file: "/m",
      promotion: { timezone: "UTC", windows: [{ cron: "0 9 * * *", duration: HOUR }] },
      retention: { enabled: true, cron: "0 3 * * *" },
    },
    { baseDir: "/", env: {}, once: false, configFile: null },
  );
  const view = configForModel(config, "m");
  const wall = at("2026-11-22T12:00:00Z");
  // The planning clock runs 2 h behind the wall clock (the wall clock was stepped forward since the start).
  const now = wall - 2 * HOUR;
  const options = planOptionsFor(view, now, wall);
  assert.equal(options.window?.open, false);
  assert.equal(options.window?.opensAt, at("2026-11-23T09:00:00Z") - 2 * HOUR);
  assert.equal(options.retention?.dueAt, at("2026-11-22T03:00:00Z") - 2 * HOUR);
  // One clock (operator commands, tests): nothing is shifted.
  const same = planOptionsFor(view, wall);
  assert.equal(same.window?.opensAt, at("2026-11-23T09:00:00Z"));
  assert.equal(same.retention?.dueAt, at("2026-11-22T03:00:00Z"));
});
