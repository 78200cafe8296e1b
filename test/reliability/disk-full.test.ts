// A full disk during a write, for real: a 256 KiB tmpfs (tests run as root) filled by a filler file, under the
// models.config's directory or under the state directory. The write fails with ENOSPC; models.config keeps its old
// bytes (no half file, no temp file left), the step fails with an error naming the path and ENOSPC, the daemon
// keeps running and TF Serving keeps serving stable, and once the filler is removed the rollout converges. The
// journal never keeps a torn line from a short write. Without mount(8) permission the file is skipped.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseJournal } from "../../src/state/journal-file.js";
import { openLocalState } from "../../src/state/local-store.js";
import { waitFor } from "../helpers/emulator-harness.js";
import { publish, stableVersion, type World } from "../helpers/rollout-world.js";
import { startFaultWorld, TIMEOUT, type FaultWorld } from "./fault-world.js";
import { tally } from "./tally.js";

const SIZE = "256k";

function mountTmpfs(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return spawnSync("mount", ["-t", "tmpfs", "-o", `size=${SIZE},mode=0700`, "tmpfs", dir]).status === 0;
}

/** Lazy: a daemon killed by a failing test may still hold a file there. */
const unmount = (dir: string) => void spawnSync("umount", ["-l", dir]);

const canMount = (() => {
  const probe = join("/tmp", `tfs-rollout-mount-probe-${process.pid}`);
  const ok = mountTmpfs(probe);
  if (ok) unmount(probe);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();
const skip = canMount ? false : "mount -t tmpfs is not permitted here (needs root)";

/** Fills the file system holding `dir` up to its last byte. */
function fill(dir: string): string {
  const filler = join(dir, "filler");
  try {
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
  }
  return filler;
}

async function failedWith(fw: FaultWorld, pattern: RegExp, what: string): Promise<Record<string, unknown>> {
  return waitFor(
    what,
    () => fw.daemon.events().find((e) => pattern.test(`${String(e.reason)} ${String(e.msg)}`)),
    TIMEOUT,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\ndaemon log:\n${fw.daemon.stdout()}`);
  });
}

test(
  "models.config's file system full during the load step's write: old file intact, clear error, converges once freed",
  { skip },
  async (t) => {
    const cfg = (world: World) => join(world.root, "cfg");
    // models.config lives on the small file system; the path TF Serving and the daemon use is a symlink to it.
    const fw = await startFaultWorld(t, undefined, [], (world) => {
      assert.ok(mountTmpfs(cfg(world)));
      try {
        copyFileSync(world.configFile, join(cfg(world), "models.config"));
        rmSync(world.configFile);
        symlinkSync(join(cfg(world), "models.config"), world.configFile);
      } catch (error) {
        unmount(cfg(world));
        throw error;
      }
      return () => unmount(cfg(world));
    });
    const dir = cfg(fw.world);
    const before = readFileSync(fw.world.configFile);
    const filler = fill(dir);
    publish(fw.world.base, "2");
    fw.guard.protect("m", "2");
    const failed = await fw.stepLogged("load", "2", "failed");
    assert.match(String(failed.reason), /ENOSPC/);
    assert.ok(
      String(failed.reason).includes(fw.world.configFile),
      `names the path: ${String(failed.reason)}`,
    );
    assert.deepEqual(readFileSync(fw.world.configFile), before, "models.config keeps its old bytes");
    assert.deepEqual(readdirSync(dir).sort(), ["filler", "models.config"], "no temp file left beside it");
    assert.equal(await stableVersion(fw.world), "1", "TF Serving keeps serving stable");
    assert.equal(fw.daemon.child.exitCode, null, "the daemon keeps running");
    rmSync(filler);
    await fw.waitStable("2", "once space was freed");
    assert.deepEqual(readdirSync(dir).sort(), ["models.config"]);
    fw.guard.accept("cfg/models.config");
    await fw.survived("models.config's file system full during a write");
  },
);

test(
  "the state directory's file system full: no torn journal line, the daemon retries and converges once freed",
  { skip },
  async (t) => {
    const fw = await startFaultWorld(t, undefined, [], (world) => {
      assert.ok(mountTmpfs(world.stateDir));
      return () => unmount(world.stateDir);
    });
    const filler = fill(fw.world.stateDir);
    publish(fw.world.base, "2");
    fw.guard.protect("m", "2");
    const failed = await failedWith(fw, /ENOSPC/, "a step or pass failing with ENOSPC");
    assert.match(`${String(failed.reason)} ${String(failed.msg)}`, new RegExp(fw.world.stateDir));
    assert.equal(await stableVersion(fw.world), "1", "TF Serving keeps serving stable");
    assert.equal(fw.daemon.child.exitCode, null, "the daemon keeps running");
    rmSync(filler);
    await fw.waitStable("2", "once space was freed");
    const journal = readFileSync(join(fw.world.stateDir, "models", "m", "journal.jsonl"), "utf8");
    assert.deepEqual(parseJournal(journal).problems, [], "no torn or damaged journal line");
    await fw.survived("state directory's file system full");
  },
);

test(
  "a journal append cut short by a full disk is cut off again: no torn line, the next append reads back",
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-journal-full-"));
    t.after(() => {
      unmount(dir);
      rmSync(dir, { recursive: true, force: true });
    });
    assert.ok(mountTmpfs(dir));
    const state = await openLocalState(dir);
    const entry = (id: string, bytes: number) => ({
      id,
      model: "m",
      step: { kind: "load", model: "m", version: "2" },
      phase: "begin" as const,
      by: "daemon" as const,
      detail: { padding: "x".repeat(bytes) },
    });
    await state.journal.append(entry("first", 10));
    const path = join(dir, "models", "m", "journal.jsonl");
    const before = readFileSync(path);
    // Full, then two pages given back: the lock file takes one, the 64 KiB line gets one page and then ENOSPC.
    const filler = fill(dir);
    const reserve = join(dir, "reserve");
    rmSync(filler);
    writeFileSync(reserve, Buffer.alloc(8192));
    fill(dir);
    rmSync(reserve);
    await assert.rejects(state.journal.append(entry("big", 64 * 1024)), /ENOSPC/);
    assert.deepEqual(readFileSync(path), before, "the short write was cut off");
    rmSync(join(dir, "filler"));
    await state.journal.append(entry("after", 10));
    const parsed = parseJournal(readFileSync(path, "utf8"));
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((e) => e.id),
      ["first", "after"],
    );
    tally("faults", "journal append cut short by a full disk");
  },
);
