import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { summarize } from "../scripts/reliability-summary.js";
import { REPO } from "./helpers/emulator-harness.js";
import { tempRoot } from "./helpers/rollout-world.js";

test("summarize totals the tallies per kind and fails on any violation or loss", () => {
  const clean = summarize([
    { kind: "kill_points", count: 1, what: "a" },
    { kind: "kill_points", count: 1, what: "b" },
    { kind: "bad_inputs", count: 300, what: "fuzz" },
  ]);
  assert.match(clean.table, /kill points survived\s+2\n/);
  assert.match(clean.table, /bad inputs tried\s+300\n/);
  assert.match(clean.table, /invariant violations \(must be 0\)\s+0\n/);
  assert.deepEqual(clean.failed, []);
  const broken = summarize([
    { kind: "faults", count: 1, what: "x" },
    { kind: "data_lost", count: 1, what: "m/2 lost" },
  ]);
  assert.deepEqual(broken.failed, ["data_lost: m/2 lost"]);
  assert.deepEqual(summarize([]).failed, ["no tallies at all: did the reliability tests run?"]);
});

test("the script prints the table and exits 1 on a violation, 0 when clean", (t) => {
  const temp = tempRoot();
  t.after(() => temp.cleanup());
  const run = () =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/reliability-summary.ts", temp.dir], {
      cwd: REPO,
      encoding: "utf8",
    });
  appendFileSync(
    join(temp.dir, "tallies.jsonl"),
    `${JSON.stringify({ kind: "faults", count: 1, what: "ok" })}\n`,
  );
  const clean = run();
  assert.equal(clean.status, 0, clean.stderr);
  assert.match(clean.stdout, /faults survived\s+1/);
  appendFileSync(
    join(temp.dir, "tallies.jsonl"),
    `${JSON.stringify({ kind: "invariant_violations", count: 1, what: "empty specific" })}\n`,
  );
  const broken = run();
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /invariant_violations: empty specific/);
});

test("edits lost to the rename race get their own line and do not fail the run (a measured limit, not data loss)", () => {
  const result = summarize([
    { kind: "faults", count: 1, what: "x" },
    { kind: "rename_race_losses", count: 2, what: "operator edits 7, 9 (no CAS in POSIX)" },
  ]);
  assert.match(result.table, /operator edits lost to the rename race \(no CAS in POSIX\)\s+2$/m);
  assert.match(result.table, /data lost \(must be 0\)\s+0\n/);
  assert.deepEqual(result.failed, []);
});
