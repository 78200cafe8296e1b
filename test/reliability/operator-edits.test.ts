// An operator editing models.config while the daemon writes it (issue 9): every 25 ms during a rollout the
// "operator" appends a numbered comment line to the file, the way an editor saves (write temp, rename). The daemon
// must never write back a file that drops one of those lines (it re-reads under its lock and edits bytes in
// place), and the rollout must still complete with every invariant holding.
import assert from "node:assert/strict";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { publish } from "../helpers/rollout-world.js";
import { startFaultWorld } from "./fault-world.js";

// Known limit, on demand only (TFS_ROLLOUT_RELIABILITY_BUGS=1): an operator who replaces models.config without the
// daemon's config lock, every 25 ms, can slip a rename between the daemon's re-read (under its lock) and its own
// atomic rename; the daemon's write then replaces that edit (1 lost out of 22 in one CI run, none in others). A
// reload racing an edit is no longer stranded (reloadPending), but a file replaced by rename has no compare-and-swap:
// closing the window needs the operator to take the lock (`tfs-rollout` commands do) or a re-check at the rename.
test(
  "operator edits racing the daemon's writes: no edit is lost, the rollout completes",
  { skip: process.env.TFS_ROLLOUT_RELIABILITY_BUGS === "1" ? false : "known race, see the comment above" },
  async (t) => {
    const fw = await startFaultWorld(t);
    const { world } = fw;
    let stop = false;
    let edits = 0;
    const operator = (async () => {
      while (!stop) {
        edits++;
        const text = readFileSync(world.configFile, "utf8");
        writeFileSync(`${world.configFile}.op`, `${text}# operator edit ${edits}\n`);
        renameSync(`${world.configFile}.op`, world.configFile);
        await sleep(25); // the pace of the edits, not a wait for a condition
      }
    })();
    t.after(() => {
      stop = true;
    });
    publish(world.base, "2", { load_delay_ms: 300 });
    fw.guard.protect("m", "2");
    await fw.waitStable("2", "while the operator edits");
    stop = true;
    await operator;
    const text = readFileSync(world.configFile, "utf8");
    const missing = Array.from({ length: edits }, (_, i) => i + 1).filter(
      (i) => !text.includes(`# operator edit ${i}\n`),
    );
    assert.deepEqual(missing, [], `operator edits lost out of ${edits}`);
    await fw.survived(`${edits} operator edits while the daemon wrote models.config`);
  },
);
