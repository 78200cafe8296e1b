import assert from "node:assert/strict";
import { test } from "node:test";
import { readNotifyEnv, watchdogIntervalMs } from "../src/systemd/notify-env.js";

test("NOTIFY_SOCKET is taken as given, abstract sockets included; empty means not under systemd", () => {
  assert.equal(
    readNotifyEnv({ NOTIFY_SOCKET: "@/org/freedesktop/systemd1/notify/1" }, 1).socket,
    "@/org/freedesktop/systemd1/notify/1",
  );
  assert.equal(readNotifyEnv({ NOTIFY_SOCKET: "" }, 1).socket, undefined);
  assert.equal(readNotifyEnv({}, 1).socket, undefined);
});

test("WATCHDOG_USEC applies when WATCHDOG_PID is absent or ours, and is halved for the pet interval", () => {
  assert.equal(readNotifyEnv({ WATCHDOG_USEC: "30000000" }, 7).watchdogUsec, 30_000_000n);
  assert.equal(readNotifyEnv({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 7).watchdogUsec, 30_000_000n);
  assert.equal(watchdogIntervalMs(30_000_000n), 15_000);
  assert.equal(watchdogIntervalMs(1n), 1);
});

test("bad or foreign watchdog variables are ignored with the reason", () => {
  const ignored = (env: NodeJS.ProcessEnv) => {
    const parsed = readNotifyEnv(env, 7);
    assert.equal(parsed.watchdogUsec, undefined);
    return parsed.watchdogIgnored;
  };
  assert.equal(ignored({ WATCHDOG_USEC: "0" }), "WATCHDOG_USEC=0 is not a positive integer");
  assert.equal(ignored({ WATCHDOG_USEC: "30s" }), "WATCHDOG_USEC=30s is not a positive integer");
  assert.equal(ignored({ WATCHDOG_USEC: "1000", WATCHDOG_PID: "x" }), "WATCHDOG_PID=x is not a pid");
  assert.equal(
    ignored({ WATCHDOG_USEC: "1000", WATCHDOG_PID: "8" }),
    "WATCHDOG_PID=8 is another process (we are 7)",
  );
  assert.equal(ignored({}), undefined);
});
