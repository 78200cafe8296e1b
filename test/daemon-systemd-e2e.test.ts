// End to end: `tfs-rollout daemon` under a fake systemd (NOTIFY_SOCKET received by a python3 process, notifications
// sent through the real systemd-notify binary): READY=1, STATUS=, WATCHDOG=1, RELOADING=1 and STOPPING=1.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { toolSkip } from "./helpers/fixtures.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { startNotifySocket } from "./helpers/notify-socket.js";
import { publish, spawnDaemon, stableVersion, startWorld } from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;
const skip = toolSkip("python3", "python3") || toolSkip("systemd-notify", "systemd");

/** A TCP port that accepts and never speaks HTTP/2: a TF Serving that does not answer (calls hit their deadline). */
async function silentTfServing(): Promise<{
  port: number;
  contacted: () => boolean;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  let contacted = false;
  server.on("connection", () => (contacted = true));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    contacted: () => contacted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test(
  "systemd: READY=1 only after TF Serving was contacted; WATCHDOG=1 keeps coming; SIGHUP → RELOADING=1, READY=1; SIGTERM → STOPPING=1, exit 0",
  { skip },
  async (t) => {
    const world = await startWorld();
    t.after(() => world.cleanup());
    const tfServing = await silentTfServing();
    t.after(() => tfServing.close());
    const notify = await startNotifySocket();
    t.after(() => notify.close());
    let readyBeforeContact = false;
    notify.onMessage = (message) => {
      if (message.fields.includes("READY=1") && !tfServing.contacted()) readyBeforeContact = true;
    };

    const daemon = spawnDaemon(world, [`--grpc=127.0.0.1:${tfServing.port}`], {
      NOTIFY_SOCKET: notify.path,
      WATCHDOG_USEC: "400000",
    });
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));

    const ready = await notify.next("READY=1", -1, TIMEOUT);
    assert.equal(readyBeforeContact, false, "READY=1 waited for the first TF Serving call to end");
    assert.ok(tfServing.contacted());
    assert.match(ready.fields.find((f) => f.startsWith("STATUS=")) ?? "", /^STATUS=1 model/);

    // WATCHDOG_USEC=400ms: a pet every 200 ms from the main loop. Loosely: several arrive.
    await waitFor("5 watchdog pets", () => notify.with("WATCHDOG=1").length >= 5, TIMEOUT);
    await waitFor(
      "a STATUS= line saying what m waits for",
      () =>
        notify.with("STATUS=").some((m) => m.fields.some((f) => /^STATUS=.*m waits \(unreachable/.test(f))),
      TIMEOUT,
    );

    const beforeHup = notify.messages.length - 1;
    daemon.child.kill("SIGHUP");
    const reloading = await notify.next("RELOADING=1", beforeHup);
    assert.ok(reloading.fields.some((f) => /^MONOTONIC_USEC=\d+$/.test(f)));
    await notify.next("READY=1", reloading.index);
    await waitFor("reload logged", () =>
      daemon.events().some((e) => e.msg === "SIGHUP: daemon config reloaded"),
    );

    const beforeTerm = notify.messages.length - 1;
    daemon.child.kill("SIGTERM");
    await notify.next("STOPPING=1", beforeTerm);
    assert.equal(await daemon.exited, 0);
    assert.equal(daemon.stderr(), "");
    const pets = notify.with("WATCHDOG=1").length;
    assert.ok(pets >= 5, `${pets} watchdog pets`);
  },
);

test(
  "systemd: a notify socket nobody listens on is logged once and changes nothing else",
  { skip },
  async (t) => {
    const world = await startWorld();
    t.after(() => world.cleanup());
    const daemon = spawnDaemon(world, [], {
      NOTIFY_SOCKET: "/nonexistent/tfs-rollout-test/notify.sock",
      WATCHDOG_USEC: "400000",
    });
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
    await waitFor("stable resolves to 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
    publish(world.base, "2");
    await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
    daemon.child.kill("SIGTERM");
    assert.equal(await daemon.exited, 0);
    const failures = daemon.events().filter((e) => String(e.msg).startsWith("systemd notification failed"));
    assert.equal(failures.length, 1, "logged once, not once per watchdog pet");
    assert.match(String(failures[0]?.msg), /the daemon carries on/);
  },
);
