import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { setImmediate as yieldNow } from "node:timers/promises";
import {
  FileLocks,
  LockTimeoutError,
  modelLockName,
  readHolder,
  type LockHolder,
} from "../src/state/locks.js";
import { ensureStateDir, type StatePaths } from "../src/state/paths.js";
import { currentIdentity } from "../src/state/process-identity.js";
import type { StateLogger } from "../src/state/state-logger.js";
import { REPO } from "./helpers/emulator-harness.js";

const CHILD = join(REPO, "test/helpers/state-child.ts");
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function stateDir(): Promise<StatePaths> {
  const dir = await mkdtemp(join(tmpdir(), "tfs-state-locks-"));
  dirs.push(dir);
  return ensureStateDir(dir);
}

function recordingLog(): StateLogger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn: (_fields, message) => warnings.push(message),
    info: (_fields, message) => infos.push(message),
  };
}

function spawnChild(...args: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  return child;
}

async function waitForLine(child: ChildProcess, expected: string): Promise<void> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`child exited (${String(code)}) before printing "${expected}"`);
  });
  const found = (async () => {
    for await (const line of lines) if (line === expected) return;
  })();
  await Promise.race([found, exited]);
}

async function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, "exit");
}

/** A pid that certainly ran on this host and has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

function holderFile(overrides: Partial<LockHolder>): string {
  const holder: LockHolder = {
    ...currentIdentity(),
    command: "tfs-rollout daemon",
    since: "2026-01-01T00:00:00.000Z",
    token: "feedfacefeedface",
    ...overrides,
  };
  return JSON.stringify(holder);
}

test("withConfigLock runs the function, returns its value and leaves no lock file", async () => {
  const paths = await stateDir();
  const locks = new FileLocks(paths, { command: "test" });
  const seen = await locks.withConfigLock(async () => readHolder(paths.lockFile("config")));
  assert.ok(seen && seen !== "unreadable");
  assert.equal(seen.pid, process.pid);
  assert.equal(seen.hostname, hostname());
  assert.equal(seen.command, "test");
  assert.equal(await readHolder(paths.lockFile("config")), undefined);
});

test("the lock is released when the function throws", async () => {
  const paths = await stateDir();
  const locks = new FileLocks(paths);
  await assert.rejects(
    locks.withModelLock("m", async () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await readHolder(paths.lockFile(modelLockName("m"))), undefined);
  assert.equal(await locks.withModelLock("m", async () => 7), 7);
});

test("callers in one process are serialised, per lock name, and different models do not block each other", async () => {
  const paths = await stateDir();
  const locks = new FileLocks(paths, { pollMs: 5 });
  let inside = 0;
  let most = 0;
  const order: number[] = [];
  const work = async (i: number) => {
    inside++;
    most = Math.max(most, inside);
    for (let k = 0; k < 5; k++) await yieldNow();
    order.push(i);
    inside--;
  };
  await Promise.all([0, 1, 2, 3].map((i) => locks.withModelLock("a", () => work(i))));
  assert.equal(most, 1);
  assert.deepEqual(order, [0, 1, 2, 3]);

  let release!: () => void;
  const held = locks.withModelLock("a", () => new Promise<void>((resolve) => (release = resolve)));
  assert.equal(await locks.withModelLock("b", async () => "b ran"), "b ran");
  release();
  await held;
});

test("separate lock instances (as separate processes would) never overlap", async () => {
  const paths = await stateDir();
  const instances = [0, 1, 2, 3, 4].map(() => new FileLocks(paths, { pollMs: 1 }));
  let inside = 0;
  let most = 0;
  let runs = 0;
  await Promise.all(
    instances.flatMap((locks) =>
      [0, 1, 2].map(() =>
        locks.withConfigLock(async () => {
          inside++;
          most = Math.max(most, inside);
          for (let k = 0; k < 3; k++) await yieldNow();
          inside--;
          runs++;
        }),
      ),
    ),
  );
  assert.equal(runs, 15);
  assert.equal(most, 1);
});

test("a lock of a dead process on this host is broken, logged, and taken", async () => {
  const paths = await stateDir();
  const log = recordingLog();
  const pid = await deadPid();
  await writeFile(paths.lockFile("config"), holderFile({ pid }));
  const locks = new FileLocks(paths, { log, timeoutMs: 5_000 });
  assert.equal(await locks.withConfigLock(async () => "ran"), "ran");
  assert.equal(log.warnings.length, 1);
  assert.match(
    log.warnings[0]!,
    new RegExp(`broke stale lock config of pid ${pid} .*tfs-rollout daemon.*not running`),
  );
});

test("a lock taken before the host rebooted, or by a pid now reused, is stale", async () => {
  const paths = await stateDir();
  const log = recordingLog();
  const locks = new FileLocks(paths, { log, timeoutMs: 5_000 });
  const me = currentIdentity();
  if (me.bootId !== undefined) {
    await writeFile(paths.lockFile("config"), holderFile({ bootId: "another-boot" }));
    await locks.withConfigLock(async () => undefined);
    assert.match(log.warnings.at(-1)!, /rebooted/);
  }
  if (me.startTicks !== undefined) {
    // Our own pid, but a start time that is not ours: the pid was reused.
    await writeFile(paths.lockFile("config"), holderFile({ startTicks: "1" }));
    await locks.withConfigLock(async () => undefined);
    assert.match(log.warnings.at(-1)!, /now belongs to another process/);
  }
});

test("a live holder is never broken: the waiter times out naming it", async () => {
  const paths = await stateDir();
  await writeFile(paths.lockFile("config"), holderFile({ pid: process.ppid, startTicks: undefined }));
  const log = recordingLog();
  const locks = new FileLocks(paths, { log, pollMs: 5 });
  const error = await locks.withConfigLock(async () => "ran", { timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(error instanceof LockTimeoutError);
  assert.equal(error.holder?.pid, process.ppid);
  assert.match(
    error.message,
    new RegExp(`held by pid ${process.ppid} on ${hostname()} \\(tfs-rollout daemon\\) since 2026-01-01`),
  );
  assert.equal(error.where, paths.lockFile("config"));
  assert.match(error.hint ?? "", new RegExp(`kill ${process.ppid}`));
  assert.equal(error.exitCode, 1);
  assert.equal(log.warnings.length, 0);
  assert.match(log.infos[0] ?? "", /waiting for lock config held by pid/);
  assert.ok(await readHolder(paths.lockFile("config")), "the holder's lock is still there");
});

test("a holder on another host is never broken, and the hint says so", async () => {
  const paths = await stateDir();
  await writeFile(
    paths.lockFile("config"),
    holderFile({ hostname: "elsewhere.example", pid: await deadPid() }),
  );
  const locks = new FileLocks(paths, { pollMs: 5 });
  const error = await locks.withConfigLock(async () => "ran", { timeoutMs: 50 }).catch((e: unknown) => e);
  assert.ok(error instanceof LockTimeoutError);
  assert.match(error.hint ?? "", /host elsewhere\.example and cannot be checked.*remove/);
});

test("an unreadable lock file is not guessed at: timeout with a hint to remove it", async () => {
  const paths = await stateDir();
  await writeFile(paths.lockFile("config"), "garbage");
  const locks = new FileLocks(paths, { pollMs: 5 });
  const error = await locks.withConfigLock(async () => "ran", { timeoutMs: 50 }).catch((e: unknown) => e);
  assert.ok(error instanceof LockTimeoutError);
  assert.match(error.message, /unreadable/);
  assert.match(error.hint ?? "", /remove .*config\.lock/);
});

test("waiters racing to break the same stale lock never end up inside together", async () => {
  const paths = await stateDir();
  await writeFile(paths.lockFile("config"), holderFile({ pid: await deadPid() }));
  const log = recordingLog();
  const instances = [0, 1, 2, 3, 4, 5].map(() => new FileLocks(paths, { pollMs: 1, log }));
  let inside = 0;
  let most = 0;
  await Promise.all(
    instances.map((locks) =>
      locks.withConfigLock(async () => {
        inside++;
        most = Math.max(most, inside);
        for (let k = 0; k < 3; k++) await yieldNow();
        inside--;
      }),
    ),
  );
  assert.equal(most, 1);
  assert.equal(log.warnings.filter((w) => w.startsWith("broke stale lock")).length, 1);
});

test("in-process waiters time out too, naming this process", async () => {
  const paths = await stateDir();
  const locks = new FileLocks(paths, { command: "tfs-rollout daemon" });
  let release!: () => void;
  const held = locks.withModelLock("m", () => new Promise<void>((resolve) => (release = resolve)));
  const error = await locks.withModelLock("m", async () => "ran", { timeoutMs: 30 }).catch((e: unknown) => e);
  assert.ok(error instanceof LockTimeoutError);
  assert.equal(error.holder?.pid, process.pid);
  release();
  await held;
  assert.equal(await locks.withModelLock("m", async () => "after"), "after");
});

test("another process holding the config lock blocks us until it releases", async () => {
  const paths = await stateDir();
  const child = spawnChild("hold", paths.root, "config");
  await waitForLine(child, "acquired");
  const holder = await readHolder(paths.lockFile("config"));
  assert.ok(holder && holder !== "unreadable");
  assert.equal(holder.pid, child.pid);
  assert.equal(holder.command, "state-child hold");

  const locks = new FileLocks(paths, { pollMs: 5 });
  const timeout = await locks.withConfigLock(async () => "ran", { timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(timeout instanceof LockTimeoutError);
  assert.match(timeout.message, new RegExp(`held by pid ${child.pid} .*\\(state-child hold\\)`));

  let entered = false;
  const waiting = locks.withConfigLock(async () => (entered = true), { timeoutMs: 30_000 });
  child.stdin!.write("release\n");
  await waiting;
  assert.equal(entered, true);
  await exitOf(child);
  assert.equal(child.exitCode, 0);
});

test("a process SIGKILLed while holding a model lock: the next process breaks the stale lock", async () => {
  const paths = await stateDir();
  const child = spawnChild("hold", paths.root, "model:resnet");
  await waitForLine(child, "acquired");
  child.kill("SIGKILL");
  await exitOf(child);
  assert.ok(
    await readHolder(paths.lockFile(modelLockName("resnet"))),
    "the killed process left its lock file",
  );

  const log = recordingLog();
  const locks = new FileLocks(paths, { log, timeoutMs: 5_000 });
  assert.equal(await locks.withModelLock("resnet", async () => "taken over"), "taken over");
  assert.match(
    log.warnings.join("\n"),
    new RegExp(`broke stale lock model.resnet of pid ${child.pid} .*not running`),
  );
});

test("two processes contending on the config lock never overlap", async () => {
  const paths = await stateDir();
  const logFile = join(paths.root, "contention.log");
  const rounds = 15;
  const contenders = [
    spawnChild("contend", paths.root, logFile, String(rounds)),
    spawnChild("contend", paths.root, logFile, String(rounds)),
  ];
  await Promise.all(contenders.map((child) => waitForLine(child, "ready")));
  for (const child of contenders) child.stdin!.write("go\n");
  await Promise.all(contenders.map(exitOf));
  assert.deepEqual(
    contenders.map((child) => child.exitCode),
    [0, 0],
  );
  const events = (await readFile(logFile, "utf8"))
    .trim()
    .split("\n")
    .map((line) => {
      const [kind, pid, at] = line.split(" ");
      return { kind, pid: Number(pid), at: Number(at) };
    });
  assert.equal(events.length, 2 * 2 * rounds);
  const pids = new Set(events.map((event) => event.pid));
  assert.deepEqual(pids, new Set(contenders.map((child) => child.pid)));
  for (let i = 0; i < events.length; i += 2) {
    const enter = events[i]!;
    const exit = events[i + 1]!;
    assert.equal(enter.kind, "enter", `line ${i + 1}`);
    assert.equal(exit.kind, "exit", `line ${i + 2}`);
    assert.equal(exit.pid, enter.pid, `line ${i + 2}: another process exited inside ${enter.pid}'s section`);
    assert.ok(exit.at >= enter.at);
    if (i > 0)
      assert.ok(enter.at >= events[i - 1]!.at, `line ${i + 1} entered before the previous holder left`);
  }
});

test("a breaker abandoned by a dead process is cleared, then the stale lock is broken", async () => {
  const paths = await stateDir();
  const pid = await deadPid();
  await writeFile(paths.lockFile("config"), holderFile({ pid }));
  const breaker = paths.lockFile("config.break");
  await writeFile(breaker, holderFile({ pid, token: "b0b0b0b0" }));
  const longAgo = new Date(Date.now() - 60_000);
  await utimes(breaker, longAgo, longAgo);
  const locks = new FileLocks(paths, { pollMs: 5, timeoutMs: 5_000 });
  assert.equal(await locks.withConfigLock(async () => "ran"), "ran");
  assert.equal(await readHolder(breaker), undefined);
});

test("a missing locks directory is a clear error, not a hang", async () => {
  const paths = await stateDir();
  await rm(paths.locksDir, { recursive: true });
  const locks = new FileLocks(paths);
  await assert.rejects(
    locks.withConfigLock(async () => "ran"),
    (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.equal(error.where, paths.locksDir);
      assert.match(error.hint ?? "", /--state-dir/);
      return true;
    },
  );
});

test("an unreadable lock file from before the last boot (torn by a power loss) is broken, with a warning", async () => {
  const paths = await stateDir();
  const file = paths.lockFile("config");
  await writeFile(file, "");
  const longAgo = new Date("2001-01-01T00:00:00Z");
  await utimes(file, longAgo, longAgo);
  const log = recordingLog();
  const locks = new FileLocks(paths, { pollMs: 5, log });
  assert.equal(await locks.withConfigLock(async () => "ran", { timeoutMs: 2000 }), "ran");
  assert.ok(
    log.warnings.some((w) => /before the host's last boot/.test(w)),
    log.warnings.join("\n"),
  );
});
