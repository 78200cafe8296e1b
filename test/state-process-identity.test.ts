import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { test } from "node:test";
import { currentIdentity, liveness } from "../src/state/process-identity.js";

test("currentIdentity names this process on this host", () => {
  const me = currentIdentity();
  assert.equal(me.pid, process.pid);
  assert.equal(me.hostname, hostname());
  if (process.platform === "linux") {
    assert.match(me.bootId ?? "", /^[0-9a-f-]{36}$/);
    assert.match(me.startTicks ?? "", /^\d+$/);
  }
});

test("this process and its parent are alive", () => {
  assert.deepEqual(liveness(currentIdentity()), { alive: true });
  assert.deepEqual(liveness({ pid: process.ppid, hostname: hostname() }), { alive: true });
});

test("an exited process is not alive", async () => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  assert.deepEqual(liveness({ pid: child.pid!, hostname: hostname() }), {
    alive: false,
    why: `pid ${child.pid} is not running`,
  });
});

test("a live pid with another start time was reused; another boot id means a reboot", () => {
  const me = currentIdentity();
  if (me.startTicks !== undefined) assert.equal(liveness({ ...me, startTicks: "1" }).alive, false);
  if (me.bootId !== undefined)
    assert.deepEqual(liveness({ ...me, bootId: "other" }), {
      alive: false,
      why: "the host has rebooted since it was taken",
    });
});

test("a process on another host cannot be judged", () => {
  assert.deepEqual(liveness({ pid: 1, hostname: "elsewhere" }), {
    alive: "unknown",
    why: "it runs on another host (elsewhere)",
  });
});
