import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { SystemdNotifier } from "../src/systemd/notify.js";
import { systemdNotifyProcess, type NotifyResult } from "../src/systemd/notify-process.js";
import type { WatchdogTimers } from "../src/systemd/watchdog.js";
import { toolSkip } from "./helpers/fixtures.js";

// Node cannot open a Unix datagram socket, so the fake NOTIFY_SOCKET receiver is a python3 process.
const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"at": time.monotonic_ns() // 1000, "message": data.decode()}), flush=True)
`;

interface Received {
  at: bigint;
  fields: string[];
}

class NotifyReceiver {
  readonly socket: string;
  readonly messages: Received[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly dir: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.socket = join(dir, "notify.sock");
  }

  static async start(): Promise<NotifyReceiver> {
    const dir = mkdtempSync(join(tmpdir(), "tfs-notify-"));
    const child = spawn("python3", ["-c", RECEIVER, join(dir, "notify.sock")]);
    const receiver = new NotifyReceiver(dir, child);
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`receiver exited early (${code})`)));
      lines.on("line", (line) => {
        if (line === "LISTENING") return resolve();
        const { at, message } = JSON.parse(line) as { at: number; message: string };
        // systemd-notify's BARRIER=1 (it waits for the receiver to drop the passed fd) is transport, not a message.
        if (message === "BARRIER=1") return;
        receiver.messages.push({ at: BigInt(at), fields: message.split("\n") });
        for (const wake of receiver.waiters.splice(0)) wake();
      });
    });
    return receiver;
  }

  async waitFor(count: number): Promise<Received[]> {
    while (this.messages.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.messages;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill();
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function toolsSkip(): string | false {
  return toolSkip("python3", "python3") || toolSkip("systemd-notify", "systemd");
}

function recordingSend() {
  const sent: string[][] = [];
  const send = async (fields: readonly string[]): Promise<NotifyResult> => {
    sent.push([...fields]);
    return { ok: true };
  };
  return { sent, send };
}

class ManualTimers implements WatchdogTimers {
  tick: (() => void) | undefined;
  intervalMs: number | undefined;
  setInterval(tick: () => void, ms: number) {
    this.tick = tick;
    this.intervalMs = ms;
    return 1;
  }
  clearInterval() {
    this.tick = undefined;
  }
}

test("without NOTIFY_SOCKET nothing is sent and no watchdog starts", async () => {
  const { sent, send } = recordingSend();
  const logs: string[] = [];
  const notifier = new SystemdNotifier({ env: { WATCHDOG_USEC: "1000000" }, send, log: (m) => logs.push(m) });
  assert.equal(notifier.enabled, false);
  await notifier.ready("up");
  await notifier.watchdog();
  await notifier.stopping();
  assert.equal(
    notifier.startWatchdog(() => true),
    false,
  );
  assert.deepEqual(sent, []);
  assert.deepEqual(logs, []);
});

test(
  "READY, STATUS, RELOADING with MONOTONIC_USEC, READY and STOPPING reach the socket in call order",
  { skip: toolsSkip() },
  async () => {
    const receiver = await NotifyReceiver.start();
    try {
      const logs: string[] = [];
      const notifier = new SystemdNotifier({
        env: { ...process.env, NOTIFY_SOCKET: receiver.socket },
        log: (m) => logs.push(m),
      });
      assert.equal(notifier.enabled, true);
      const before = process.hrtime.bigint() / 1000n;
      // Not awaited one by one: the queue alone must keep the order.
      void notifier.ready("config loaded\nwatching 2 models");
      void notifier.status("idle");
      void notifier.reloading();
      const after = process.hrtime.bigint() / 1000n;
      void notifier.ready("reloaded");
      await notifier.stopping("finishing step");
      const messages = await receiver.waitFor(5);
      const reload = messages[2]!.fields;
      assert.deepEqual(
        messages.map((m) => m.fields),
        [
          ["READY=1", "STATUS=config loaded watching 2 models"],
          ["STATUS=idle"],
          ["RELOADING=1", reload[1]],
          ["READY=1", "STATUS=reloaded"],
          ["STOPPING=1", "STATUS=finishing step"],
        ],
      );
      const usec = BigInt(/^MONOTONIC_USEC=(\d+)$/.exec(reload[1]!)![1]!);
      // Same clock as python's time.monotonic (CLOCK_MONOTONIC): taken between the calls, before its arrival.
      assert.ok(before <= usec && usec <= after, `${before} <= ${usec} <= ${after}`);
      assert.ok(usec <= messages[2]!.at);
      assert.deepEqual(logs, []);
    } finally {
      await receiver.stop();
    }
  },
);

test(
  "the watchdog pets every WATCHDOG_USEC/2 and only while the main loop is alive",
  { skip: toolsSkip() },
  async () => {
    const receiver = await NotifyReceiver.start();
    try {
      const timers = new ManualTimers();
      const logs: string[] = [];
      const env = {
        ...process.env,
        NOTIFY_SOCKET: receiver.socket,
        WATCHDOG_USEC: "3000000",
        WATCHDOG_PID: `${process.pid}`,
      };
      const notifier = new SystemdNotifier({ env, timers, log: (m) => logs.push(m) });
      let alive = true;
      assert.equal(
        notifier.startWatchdog(() => alive),
        true,
      );
      assert.equal(timers.intervalMs, 1500);
      await notifier.ready();
      timers.tick!();
      await notifier.flush();
      alive = false;
      timers.tick!();
      timers.tick!();
      await notifier.status("stuck?");
      alive = true;
      timers.tick!();
      await notifier.flush();
      notifier.stopWatchdog();
      assert.equal(timers.tick, undefined);
      const messages = await receiver.waitFor(4);
      assert.deepEqual(
        messages.map((m) => m.fields),
        [["READY=1"], ["WATCHDOG=1"], ["STATUS=stuck?"], ["WATCHDOG=1"]],
      );
      assert.equal(logs.length, 2);
      assert.match(logs[0]!, /not alive, not petting/);
      assert.match(logs[1]!, /alive again/);
    } finally {
      await receiver.stop();
    }
  },
);

test("with real timers the pets arrive no faster than WATCHDOG_USEC/2", { skip: toolsSkip() }, async () => {
  const receiver = await NotifyReceiver.start();
  try {
    const env = { ...process.env, NOTIFY_SOCKET: receiver.socket, WATCHDOG_USEC: "100000" };
    const notifier = new SystemdNotifier({ env, log: () => {} });
    const started = process.hrtime.bigint() / 1000n;
    notifier.startWatchdog(() => true);
    const messages = await receiver.waitFor(3);
    notifier.stopWatchdog();
    await notifier.flush();
    assert.ok(messages.every((m) => m.fields.join() === "WATCHDOG=1"));
    // The n-th pet cannot leave before n intervals of 50 ms (a slow machine only makes it later, and pets that
    // queue up behind a slow systemd-notify are merged). Same CLOCK_MONOTONIC on both sides; 2 ms timer rounding.
    messages.slice(0, 3).forEach((message, i) => {
      const elapsed = message.at - started;
      assert.ok(elapsed >= BigInt((i + 1) * 50_000 - 2_000), `pet ${i + 1} after ${elapsed} µs`);
    });
  } finally {
    await receiver.stop();
  }
});

test("WATCHDOG_PID of another process disables the watchdog, with one log line", () => {
  const logs: string[] = [];
  const env = { NOTIFY_SOCKET: "/run/x", WATCHDOG_USEC: "1000000", WATCHDOG_PID: "1" };
  const notifier = new SystemdNotifier({
    env,
    pid: 4242,
    send: recordingSend().send,
    log: (m) => logs.push(m),
  });
  assert.equal(notifier.watchdogIntervalMs, undefined);
  assert.equal(
    notifier.startWatchdog(() => true),
    false,
  );
  assert.deepEqual(logs, ["systemd watchdog not used: WATCHDOG_PID=1 is another process (we are 4242)"]);
});

test(
  "a socket nobody listens on is logged once and never throws",
  { skip: toolSkip("systemd-notify", "systemd") },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfs-notify-"));
    try {
      const logs: string[] = [];
      const env = { ...process.env, NOTIFY_SOCKET: join(dir, "absent.sock") };
      const notifier = new SystemdNotifier({ env, log: (m) => logs.push(m) });
      await notifier.ready();
      await notifier.watchdog();
      await notifier.stopping();
      assert.equal(logs.length, 1);
      assert.match(
        logs[0]!,
        /systemd notification failed \(the daemon carries on.*READY=1 exited with code 1: .*No such file/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("a missing systemd-notify binary resolves with the reason instead of throwing", async () => {
  const send = systemdNotifyProcess({
    command: "/nonexistent/systemd-notify",
    env: { NOTIFY_SOCKET: "/run/x" },
  });
  const result = await send(["READY=1"]);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : "", /cannot run \/nonexistent\/systemd-notify: .*ENOENT/);
});

test("watchdog pets waiting behind a slow notification are coalesced and the queue is bounded", async () => {
  const sent: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const send = async (fields: readonly string[]): Promise<NotifyResult> => {
    sent.push([...fields]);
    await gate;
    return { ok: true };
  };
  const logs: string[] = [];
  const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: "/run/x" }, send, log: (m) => logs.push(m) });
  void notifier.ready();
  for (let i = 0; i < 5; i++) void notifier.watchdog();
  for (let i = 0; i < 40; i++) void notifier.status(`s${i}`);
  release();
  await notifier.flush();
  assert.deepEqual(sent[0], ["READY=1"]);
  assert.equal(sent.filter((f) => f[0] === "WATCHDOG=1").length, 1);
  assert.equal(sent.length, 32);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /32 notifications already waiting; dropped STATUS=s30/);
});
