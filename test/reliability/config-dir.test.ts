// The models.config directory turning read-only while the daemon needs to write (issue 9), with the daemon as
// "nobody" (root ignores permissions): the atomic write cannot create its temp file, so models.config keeps its
// exact bytes, stable keeps serving, nothing is half-written; once writable again the rollout completes.
import assert from "node:assert/strict";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../../src/state/local-store.js";
import { runningAsRoot } from "../helpers/as-unprivileged.js";
import { waitFor } from "../helpers/emulator-harness.js";
import { publish, stableVersion } from "../helpers/rollout-world.js";
import { chownTree, nobodysWorld, spawnAsNobody } from "./nobody-world.js";
import { tally } from "./tally.js";
import { checkWorld, guardWorld } from "./world-invariants.js";

const TIMEOUT = 30_000;

test(
  "models.config's directory read-only during a rollout: the file keeps its bytes, then the rollout completes",
  { skip: runningAsRoot ? false : "needs root to run the daemon as nobody" },
  async (t) => {
    const world = await nobodysWorld(t);
    const daemon = spawnAsNobody(world);
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
    await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
    const guard = guardWorld(world);
    const bytes = readFileSync(world.configFile);
    chmodSync(world.root, 0o555);
    publish(world.base, "2");
    chownTree(join(world.base, "2"));
    guard.protect("m", "2");
    await waitFor(
      "the daemon failed to write models.config",
      () => /cannot create a temporary file/.test(daemon.log()),
      TIMEOUT,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${daemon.log()}`);
    });
    assert.deepEqual(readFileSync(world.configFile), bytes, "models.config kept its exact bytes");
    assert.equal(await stableVersion(world), "1");
    const frozen = await checkWorld(guard, { scenario: "models.config dir read-only" });
    assert.deepEqual(frozen, { violations: [], lost: [] });
    chmodSync(world.root, 0o755);
    await waitFor(
      "stable → 2 once writable",
      async () => (await stableVersion(world)) === "2",
      TIMEOUT,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${daemon.log()}`);
    });
    const state = await openLocalState(world.stateDir);
    await waitFor(
      "settled",
      async () =>
        (await state.verdicts.get("m", "2"))?.verdict === "promoted" &&
        (await state.journal.unfinished("m")).length === 0,
      TIMEOUT,
    );
    daemon.child.kill("SIGTERM");
    assert.equal(await daemon.exited, 0, daemon.log());
    const result = await checkWorld(guard, { scenario: "models.config dir writable again", settled: true });
    assert.deepEqual(result, { violations: [], lost: [] });
    tally("faults", "models.config directory read-only during a write");
  },
);
