// The state directory unwritable (issue 9): tests run as root, where permissions stop nothing, so the daemon runs as
// "nobody" (uid 65534) with a world it owns. A state dir it cannot write at start-up stops it with a located error
// before it touches anything; one that turns read-only mid-run makes it stop journaling and so stop changing
// models.config (no step without its journal entry), and once writable again the rollout completes.
import assert from "node:assert/strict";
import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../../src/state/local-store.js";
import { waitFor } from "../helpers/emulator-harness.js";
import { publish, stableVersion } from "../helpers/rollout-world.js";
import { chownTree, nobodysWorld, setWritable, spawnAsNobody } from "./nobody-world.js";
import { runningAsRoot } from "../helpers/as-unprivileged.js";
import { tally } from "./tally.js";
import { checkWorld, guardWorld } from "./world-invariants.js";

const TIMEOUT = 30_000;

test(
  "a state dir the daemon cannot write at start-up: it exits with a located error, nothing touched",
  { skip: runningAsRoot ? false : "needs root to run the daemon as nobody" },
  async (t) => {
    const world = await nobodysWorld(t);
    mkdirSync(world.stateDir, { mode: 0o700 });
    chownSync(world.stateDir, 0, 0);
    const guard = guardWorld(world);
    const daemon = spawnAsNobody(world);
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
    const code = await daemon.exited;
    assert.notEqual(code, 0, daemon.log());
    assert.match(daemon.log(), new RegExp(world.stateDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    const result = await checkWorld(guard, { scenario: "state dir unwritable at start-up" });
    assert.deepEqual(result, { violations: [], lost: [] });
    tally("faults", "state dir unwritable at start-up");
  },
);

test(
  "the state dir turning read-only mid-run: no step without its journal entry, then the rollout completes",
  { skip: runningAsRoot ? false : "needs root to run the daemon as nobody" },
  async (t) => {
    const world = await nobodysWorld(t);
    const daemon = spawnAsNobody(world);
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
    await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
    const guard = guardWorld(world);
    setWritable(world.stateDir, false);
    publish(world.base, "2");
    chownTree(join(world.base, "2"));
    guard.protect("m", "2");
    // Admission and the load must journal first: nothing may change while the state dir refuses writes.
    await waitFor(
      "the daemon hit the read-only state dir",
      () => /EACCES|permission denied/i.test(daemon.log()),
      TIMEOUT,
    );
    assert.equal(await stableVersion(world), "1");
    const frozen = await checkWorld(guard, { scenario: "state dir read-only mid-run" });
    assert.deepEqual(frozen, { violations: [], lost: [] });
    setWritable(world.stateDir, true);
    await waitFor(
      "stable → 2 once the state dir is writable",
      async () => (await stableVersion(world)) === "2",
      TIMEOUT,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${daemon.log()}`);
    });
    const state = await openLocalState(world.stateDir);
    await waitFor("settled", async () => (await state.journal.unfinished("m")).length === 0, TIMEOUT);
    daemon.child.kill("SIGTERM");
    assert.equal(await daemon.exited, 0, daemon.log());
    const result = await checkWorld(guard, { scenario: "state dir writable again", settled: true });
    assert.deepEqual(result, { violations: [], lost: [] });
    tally("faults", "state dir read-only mid-run");
  },
);
