import assert from "node:assert/strict";
import { test } from "node:test";
import { startWatchdogLoop, type WatchdogTimers } from "../src/systemd/watchdog.js";

function manualTimers() {
  const state = { tick: undefined as (() => void) | undefined, ms: 0, cleared: false };
  const timers: WatchdogTimers = {
    setInterval(tick, ms) {
      state.tick = tick;
      state.ms = ms;
      return "handle";
    },
    clearInterval(handle) {
      assert.equal(handle, "handle");
      state.cleared = true;
    },
  };
  return { state, timers };
}

test("pets on each tick while alive, stops while not, logs each transition once, and stops on demand", () => {
  const { state, timers } = manualTimers();
  let alive = true;
  let pets = 0;
  const logs: string[] = [];
  const stop = startWatchdogLoop({
    intervalMs: 250,
    isAlive: () => alive,
    pet: () => pets++,
    log: (m) => logs.push(m),
    timers,
  });
  assert.equal(state.ms, 250);
  state.tick!();
  state.tick!();
  alive = false;
  state.tick!();
  state.tick!();
  assert.equal(pets, 2);
  alive = true;
  state.tick!();
  assert.equal(pets, 3);
  assert.equal(logs.length, 2);
  stop();
  assert.equal(state.cleared, true);
});
