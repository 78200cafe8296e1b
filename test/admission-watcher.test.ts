import assert from "node:assert/strict";
import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { getTasks } from "node-cron";
import { countInotifyWatches } from "../src/admission/inotify.js";
import { admissionRules } from "../src/admission/quiet-window.js";
import { AdmissionScanner } from "../src/admission/scanner.js";
import {
  VersionWatcher,
  type EnqueueReason,
  type RescanScheduler,
  type WatcherOptions,
  type WatchTarget,
} from "../src/admission/watcher.js";
import { UsageError } from "../src/errors.js";
import { tempDir, writeCompleteVersion } from "./helpers/version-dir.js";

interface Call {
  model: string;
  reason: EnqueueReason;
}

/** Records enqueue calls; waitFor resolves on the first (past or future) call matching. */
function recorder() {
  const calls: Call[] = [];
  const waiters: { match: (c: Call) => boolean; resolve: (c: Call) => void }[] = [];
  const enqueue = (model: string, reason: EnqueueReason): void => {
    const call = { model, reason };
    calls.push(call);
    for (const w of [...waiters]) {
      if (w.match(call)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  };
  const waitFor = (match: (c: Call) => boolean, timeoutMs = 30_000): Promise<Call> =>
    new Promise((resolve, reject) => {
      const hit = calls.find(match);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => {
        waiters.splice(
          waiters.findIndex((w) => w.match === match),
          1,
        );
        reject(new Error(`no matching enqueue within ${timeoutMs} ms; got ${JSON.stringify(calls)}`));
      }, timeoutMs);
      waiters.push({
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
    });
  return { calls, enqueue, waitFor };
}

/** Cron ticks fired by hand, by expression. */
function manualCron() {
  const ticks = new Map<string, () => void>();
  let stopped = 0;
  const schedule: RescanScheduler = (expression, tick) => {
    ticks.set(expression, tick);
    return { stop: () => void stopped++ };
  };
  return { schedule, tick: (expression: string) => ticks.get(expression)!(), stopped: () => stopped };
}

async function startWatcher(
  t: { after(fn: () => Promise<void>): void },
  targets: WatchTarget[],
  options: Partial<WatcherOptions> & { enqueue: WatcherOptions["enqueue"] },
): Promise<VersionWatcher> {
  const watcher = await VersionWatcher.start(targets, { scheduleRescan: manualCron().schedule, ...options });
  t.after(() => watcher.close());
  return watcher;
}

const pathEvent = (source: "base-path" | "pending-dir", path: string, event?: string) => (c: Call) =>
  c.reason.source === source && c.reason.path === path && (event === undefined || c.reason.event === event);

const inotify = process.platform === "linux" ? false : "inotify watches are counted on Linux only";

test("a complete version renamed into the base path enqueues its model; other names fire nothing", async (t) => {
  const base = tempDir(t);
  const rec = recorder();
  await startWatcher(t, [{ model: "m", basePath: base }], { enqueue: rec.enqueue });
  writeFileSync(join(base, "NOTES.txt"), "not a version");
  mkdirSync(join(base, ".rejected-3-20260101T000000Z"));
  const staging = join(base, "9.tmp");
  writeCompleteVersion(staging, 2);
  renameSync(staging, join(base, "9"));
  const call = await rec.waitFor(pathEvent("base-path", join(base, "9"), "rename"));
  assert.equal(call.model, "m");
  assert.deepEqual(
    rec.calls.filter((c) => !JSON.stringify(c.reason).includes(join(base, "9"))),
    [],
    "NOTES.txt, .rejected-… and 9.tmp are not versions",
  );
  const scan = await new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 0 }) }).scan("m", base, 0);
  assert.deepEqual(
    scan.versions.map((v) => [v.version, v.admission]),
    [["9", "complete"]],
  );
});

test("with usePolling (NFS, FUSE) a renamed-in version is seen too", async (t) => {
  const base = tempDir(t);
  const rec = recorder();
  await startWatcher(t, [{ model: "m", basePath: base }], {
    enqueue: rec.enqueue,
    usePolling: true,
    pollIntervalMs: 20,
  });
  // fs.watchFile takes its baseline stat a moment after chokidar reports ready: a rename before it is not a change
  // (the cron rescan is what catches such a miss in the daemon). So publish again, under a new number, if needed.
  for (let version = 3; ; version++) {
    writeCompleteVersion(join(base, `${version}.partial`));
    renameSync(join(base, `${version}.partial`), join(base, String(version)));
    const seen = await rec
      .waitFor(pathEvent("base-path", join(base, String(version)), "addDir"), 3000)
      .then(() => true)
      .catch(() => false);
    if (seen) break;
    assert.ok(version < 8, `no polling event for versions 3..${version}`);
  }
});

test("a pending directory is watched inside (files arriving during a copy) until released", async (t) => {
  const base = tempDir(t);
  const version = join(base, "5");
  mkdirSync(join(version, "variables"), { recursive: true });
  const rec = recorder();
  const watcher = await startWatcher(t, [{ model: "m", basePath: base }], { enqueue: rec.enqueue });
  await watcher.setPending("m", [version]);
  assert.deepEqual(watcher.watching(), { basePaths: 1, pendingDirs: 1 });
  const index = join(version, "variables", "variables.index");
  writeFileSync(index, "partial");
  await rec.waitFor(pathEvent("pending-dir", index));
  await watcher.setPending("m", []);
  assert.deepEqual(watcher.watching(), { basePaths: 1, pendingDirs: 0 });
});

/** Two models whose watch sees nothing (events dropped), with the rescan and resync ticks fired by hand. */
async function blindWorld(t: TestContext) {
  const base = tempDir(t);
  const other = tempDir(t);
  writeCompleteVersion(join(base, "4")); // there before the watcher: no event
  const yesterday = new Date(Date.now() - 86_400_000);
  utimesSync(base, yesterday, yesterday); // published a while ago: a change now cannot fall in the same mtime tick
  const rec = recorder();
  const cron = manualCron();
  // An hour from now by default: every change the test makes is long settled (see the unsettled test).
  const clock = { now: Date.now() + 3_600_000 };
  const watcher = await startWatcher(
    t,
    [
      { model: "m", basePath: base },
      { model: "n", basePath: other },
    ],
    {
      enqueue: rec.enqueue,
      scheduleRescan: cron.schedule,
      rescanCron: "*/5 * * * * *",
      resyncCron: "0 * * * *",
      now: () => clock.now,
    },
  );
  // What a lost event looks like: the rescan must find it without any watch's help.
  const blind = (c: Call) => c.reason.source !== "base-path";
  return {
    base,
    other,
    rec,
    cron,
    clock,
    watcher,
    seen: () => rec.calls.filter(blind).map((c) => [c.model, c.reason.source]),
  };
}

test("the rescan enqueues only the models whose base path changed, catching what no event reported", async (t) => {
  const w = await blindWorld(t);
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [], "nothing changed since the watch was armed: nothing to reconcile");
  mkdirSync(join(w.other, "7"));
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [["n", "rescan"]]);
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [["n", "rescan"]], "seen once, not at every rescan");
  // A version replaced by another under the same name: the names are the same, the base path's mtime is not.
  rmSync(join(w.base, "4"), { recursive: true });
  writeCompleteVersion(join(w.base, "4"));
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [
    ["n", "rescan"],
    ["m", "rescan"],
  ]);
  const scan = await new AdmissionScanner({ rules: admissionRules({ quietWindowMs: 0 }) }).scan(
    "m",
    w.base,
    0,
  );
  assert.equal(scan.versions[0]!.admission, "complete");
});

test("a base path changed in the last 2 s is looked at again at every rescan until it settles", async (t) => {
  // Timestamps are as fine as a kernel clock tick: a second change in the tick of a stat keeps the mtime.
  const w = await blindWorld(t);
  mkdirSync(join(w.other, "8"));
  w.clock.now = Date.now();
  await w.watcher.rescanNow();
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [
    ["n", "rescan"],
    ["n", "rescan"],
  ]);
  w.clock.now += 3_600_000;
  await w.watcher.rescanNow(); // settled now: one more look, then quiet
  await w.watcher.rescanNow();
  assert.deepEqual(w.seen(), [
    ["n", "rescan"],
    ["n", "rescan"],
    ["n", "rescan"],
  ]);
});

test("the cron tick runs the rescan; a model with a directory pending is enqueued at every rescan", async (t) => {
  const w = await blindWorld(t);
  await w.watcher.setPending("m", [join(w.base, "4")]);
  w.cron.tick("*/5 * * * * *");
  await w.rec.waitFor((c) => c.model === "m" && c.reason.source === "rescan");
  await w.watcher.rescanNow(); // the tick's rescan if still running, else one more
  const before = w.seen().length;
  await w.watcher.rescanNow();
  assert.deepEqual(
    w.seen().slice(before),
    [["m", "rescan"]],
    "n's listing did not change; m has a pending dir",
  );
});

test("the resync enqueues every model, whatever its listing", async (t) => {
  const w = await blindWorld(t);
  w.cron.tick("0 * * * *");
  assert.deepEqual(w.seen(), [
    ["m", "resync"],
    ["n", "resync"],
  ]);
});

test("the resync hands models over 20 at a time, so a version published meanwhile is not queued behind them all", async (t) => {
  const base = tempDir(t);
  const rec = recorder();
  const cron = manualCron();
  const models = Array.from({ length: 45 }, (_, i) => `m${i}`);
  await startWatcher(
    t,
    models.map((model) => ({ model, basePath: base })),
    { enqueue: rec.enqueue, scheduleRescan: cron.schedule, resyncCron: "0 * * * *" },
  );
  cron.tick("0 * * * *");
  const resynced = () => rec.calls.filter((c) => c.reason.source === "resync").map((c) => c.model);
  assert.equal(resynced().length, 20, "the first batch at once, the rest later");
  await rec.waitFor(() => resynced().length === 45);
  assert.deepEqual(resynced().sort(), [...models].sort(), "every model once");
});

test("a base path removed and created again is watched again", async (t) => {
  const root = tempDir(t);
  const base = join(root, "model");
  mkdirSync(base);
  const rec = recorder();
  await startWatcher(t, [{ model: "m", basePath: base }], { enqueue: rec.enqueue });
  rmSync(base, { recursive: true });
  await rec.waitFor(pathEvent("base-path", base, "unlinkDir"));
  mkdirSync(base);
  // Re-armed on the new directory (fs.watch follows an inode, not a name) as soon as it appears, no rescan needed.
  await rec.waitFor((c) => c.reason.source === "rescan");
  mkdirSync(join(base, "3"));
  await rec.waitFor(pathEvent("base-path", join(base, "3")));
});

test("recheckAfter enqueues the model later; the earliest request wins", async (t) => {
  const base = tempDir(t);
  const rec = recorder();
  const watcher = await startWatcher(t, [{ model: "m", basePath: base }], { enqueue: rec.enqueue });
  watcher.recheckAfter("m", 3_600_000);
  watcher.recheckAfter("m", 1);
  watcher.recheckAfter("m", 3_600_000);
  await rec.waitFor((c) => c.reason.source === "recheck");
  assert.equal(rec.calls.filter((c) => c.reason.source === "recheck").length, 1);
});

test("a base path created after start is watched from the next rescan on", async (t) => {
  const root = tempDir(t);
  const base = join(root, "model");
  const rec = recorder();
  const cron = manualCron();
  const watcher = await startWatcher(t, [{ model: "m", basePath: base }], {
    enqueue: rec.enqueue,
    scheduleRescan: cron.schedule,
  });
  mkdirSync(base);
  await watcher.rescanNow(); // what the cron tick runs; re-arms the watcher on the now existing base path
  mkdirSync(join(base, "1"));
  await rec.waitFor(pathEvent("base-path", join(base, "1")));
});

test("setTargets drops removed models and re-targets a changed base path", async (t) => {
  const first = tempDir(t);
  const second = tempDir(t);
  const rec = recorder();
  const watcher = await startWatcher(
    t,
    [
      { model: "m", basePath: first },
      { model: "gone", basePath: first },
    ],
    { enqueue: rec.enqueue },
  );
  await watcher.setTargets([{ model: "m", basePath: second }]);
  assert.deepEqual(watcher.watching(), { basePaths: 1, pendingDirs: 0 });
  mkdirSync(join(second, "2"));
  const call = await rec.waitFor(pathEvent("base-path", join(second, "2")));
  assert.equal(call.model, "m");
});

test("an invalid rescan or resync cron expression is a usage error naming the key", async () => {
  await assert.rejects(
    VersionWatcher.start([], { enqueue: () => {}, rescanCron: "every 30 seconds" }),
    (error: unknown) => error instanceof UsageError && error.where === "watch.rescan_cron",
  );
  await assert.rejects(
    VersionWatcher.start([], { enqueue: () => {}, resyncCron: "every 10 minutes" }),
    (error: unknown) => error instanceof UsageError && error.where === "watch.resync_cron",
  );
});

test("close() releases the node-cron task, every watcher and timer, and silences enqueue", async (t) => {
  const base = tempDir(t);
  const version = join(base, "6");
  mkdirSync(version);
  const before = await countInotifyWatches();
  const rec = recorder();
  const watcher = await VersionWatcher.start([{ model: "m", basePath: base }], { enqueue: rec.enqueue });
  const ours = () => [...getTasks().values()].filter((task) => task.name === "tfs-rollout-rescan").length;
  assert.equal(ours(), 2, "the rescan and the resync");
  await watcher.setPending("m", [version]);
  watcher.recheckAfter("m", 3_600_000);
  await watcher.close();
  assert.equal(ours(), 0);
  assert.deepEqual(watcher.watching(), { basePaths: 0, pendingDirs: 0 });
  assert.equal(await countInotifyWatches(), before);
  await watcher.rescanNow();
  assert.deepEqual(rec.calls, []);
  await watcher.close(); // idempotent
});

test(
  "inotify watches grow with models and pending directories, not with versions",
  { skip: inotify },
  async (t) => {
    const small = tempDir(t);
    const large = tempDir(t);
    for (let v = 1; v <= 2; v++) writeCompleteVersion(join(small, String(v)), 2);
    for (let v = 1; v <= 40; v++) writeCompleteVersion(join(large, String(v)), 2);
    const rec = recorder();
    const baseline = (await countInotifyWatches())!;
    const watcher = await startWatcher(t, [{ model: "small", basePath: small }], { enqueue: rec.enqueue });
    const oneModel = (await countInotifyWatches())! - baseline;
    await watcher.setTargets([
      { model: "small", basePath: small },
      { model: "large", basePath: large },
    ]);
    const twoModels = (await countInotifyWatches())! - baseline;
    assert.equal(oneModel, 1, "one watch per base path, whatever it holds");
    assert.equal(twoModels, 2, "40 versions cost no more than 2");
    const copying = join(large, "41");
    mkdirSync(join(copying, "variables"), { recursive: true });
    mkdirSync(join(copying, "assets.extra"));
    await watcher.setPending("large", [copying]);
    const withPending = (await countInotifyWatches())! - baseline;
    assert.equal(withPending, 2 + 3, "a pending dir costs one watch per directory up to depth 1");
    await watcher.setPending("large", []);
    assert.equal((await countInotifyWatches())! - baseline, 2);
  },
);
