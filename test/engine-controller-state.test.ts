import assert from "node:assert/strict";
import { test } from "node:test";
import type { ControllerRecord, Step } from "../src/controller/types.js";
import {
  journalBegin,
  journalEnd,
  loadControllerState,
  mirrorVerdicts,
  repairVerdictMirror,
} from "../src/engine/controller-state.js";
import { openLocalState } from "../src/state/local-store.js";
import { tempDir } from "./helpers/version-dir.js";

const load: Step = {
  kind: "load",
  model: "m",
  config: { specific: ["1", "2"], labels: { stable: "1" } },
  version: "2",
};
const record: ControllerRecord = {
  verdicts: { "2": { verdict: "candidate", reason: "newest complete version", at: 1_000, by: "daemon" } },
  progress: { "2": { loadStartedAt: 2_000 } },
  lastWritten: { specific: ["1", "2"], labels: { stable: "1" } },
};

test("a fresh model has an empty record and nothing in flight", async (t) => {
  const state = await openLocalState(tempDir(t, "engine-state-"));
  assert.deepEqual(await loadControllerState(state.journal, "m"), { record: { verdicts: {}, progress: {} } });
});

test("the record travels with each step's done entry; a begin without an end is the step in flight", async (t) => {
  const state = await openLocalState(tempDir(t, "engine-state-"));
  await journalBegin(state.journal, "s1", load);
  const inFlight = await loadControllerState(state.journal, "m");
  assert.equal(inFlight.inFlight?.id, "s1");
  assert.deepEqual(inFlight.inFlight?.step, load);
  assert.equal(typeof inFlight.inFlight?.startedAt, "number");

  await journalEnd(state.journal, "s1", load, { ok: true, reason: "reloaded" }, record);
  const done = await loadControllerState(state.journal, "m");
  assert.equal(done.inFlight, undefined);
  assert.deepEqual(done.record, record);

  // A failed step records the record as it was after folding the failure too; the newest one wins.
  const later: ControllerRecord = { ...record, progress: {} };
  await journalBegin(state.journal, "s2", load);
  await journalEnd(state.journal, "s2", load, { ok: false, reason: "reload failed", written: true }, later);
  assert.deepEqual((await loadControllerState(state.journal, "m")).record, later);
});

test("verdicts are mirrored into the verdict store; actors it does not know are recorded as the daemon", async (t) => {
  const state = await openLocalState(tempDir(t, "engine-state-"));
  await mirrorVerdicts(
    state.verdicts,
    "m",
    {},
    {
      "2": {
        verdict: "promoted",
        reason: "stable moved by a hand edit of models.config",
        at: 5_000,
        by: "hand-edit",
      },
      "3": { verdict: "rejected", reason: "gate failed", at: 6_000, by: "daemon" },
    },
  );
  const two = await state.verdicts.get("m", "2");
  assert.equal(two?.verdict, "promoted");
  assert.equal(two?.by, "daemon");
  assert.match(two?.reason ?? "", /\(hand-edit\)$/);
  assert.equal((await state.verdicts.get("m", "3"))?.at, new Date(6_000).toISOString());
  await mirrorVerdicts(
    state.verdicts,
    "m",
    { "3": { verdict: "rejected", reason: "x", at: 6_000, by: "daemon" } },
    {},
  );
  assert.equal(await state.verdicts.get("m", "3"), undefined);
});

test("a verdict store left behind by a crash between journal and mirror is repaired from the record", async (t) => {
  const state = await openLocalState(tempDir(t, "engine-state-"));
  const candidate = { verdict: "candidate" as const, reason: "newest", at: 1_000, by: "daemon" };
  const promoted = { verdict: "promoted" as const, reason: "stable resolves to 2", at: 2_000, by: "daemon" };
  await mirrorVerdicts(state.verdicts, "m", {}, { "2": candidate });
  await state.verdicts.put({ ...(await state.verdicts.get("m", "2"))!, gate: { passed: true } });
  // The daemon journaled "promoted" and died before mirroring it: the store still says candidate.
  await repairVerdictMirror(state.verdicts, "m", { verdicts: { "2": promoted }, progress: {} });
  const repaired = await state.verdicts.get("m", "2");
  assert.equal(repaired?.verdict, "promoted");
  assert.deepEqual(repaired?.gate, { passed: true }, "the gate report is kept");
  // Once per process and model: later passes leave the store to the per-step mirror.
  await state.verdicts.put({ ...repaired!, verdict: "candidate" });
  await repairVerdictMirror(state.verdicts, "m", { verdicts: { "2": promoted }, progress: {} });
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "candidate");
  // ... which compares with the store itself, so it repairs it too, even when the record did not change.
  await mirrorVerdicts(state.verdicts, "m", { "2": promoted }, { "2": promoted });
  assert.equal((await state.verdicts.get("m", "2"))?.verdict, "promoted");
});
