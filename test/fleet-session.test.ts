// The engine's side of fleet mode without TF Serving: the FleetView of a pass (fleet-observe.ts), the fleet steps'
// effects (fleet-steps.ts) and the session (fleet-session.ts: joining, intents copied once, the ready flag, the
// wake-up once an unreachable backend answers again), against the in-memory fleet backend.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyFleetStep } from "../src/engine/fleet-steps.js";
import { observeFleet } from "../src/engine/fleet-observe.js";
import { FleetSession, fleetSettings } from "../src/engine/fleet-session.js";
import { createEngineLogger } from "../src/engine/logger.js";
import { MemoryFleet } from "../src/fleet/memory-backend.js";
import { openLocalState } from "../src/state/local-store.js";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { tempDir, waitFor } from "./helpers/emulator-harness.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const SETTINGS = { maxLoading: 1, policy: { kind: "all" } as const };
const silent = createEngineLogger({ write: () => undefined, level: "silent" });

async function started(fleet: MemoryFleet, id: string) {
  const backend = fleet.replica(id);
  await backend.start();
  return backend;
}

test("the pass's FleetView: coordinator, members, rollouts with decisions and reports in ms, slots", async () => {
  const fleet = new MemoryFleet({ now: () => new Date("2026-11-22T10:00:00Z") });
  const a = await started(fleet, "a");
  const b = await started(fleet, "b");
  await a.isCoordinator("m");
  await a.openRollout("m", "3");
  await b.report("m", "3", "passed", "3 checks passed");
  await b.acquireLoadSlot("m", "3", 1);
  await a.decide("m", "3", { verdict: "reject", reason: "failed on c", by: "a" });
  const view = await observeFleet(b, "m", SETTINGS);
  const at = Date.parse("2026-11-22T10:00:00Z");
  assert.deepEqual(view, {
    replica: "b",
    maxLoading: 1,
    policy: { kind: "all" },
    reachable: true,
    coordinator: false,
    coordinatorId: "a",
    members: [
      { replica: "a", ready: false },
      { replica: "b", ready: false },
    ],
    rollouts: [
      {
        version: "3",
        openedAt: at,
        decision: { verdict: "reject", reason: "failed on c", at, by: "a", override: false },
        reports: { b: { phase: "passed", reason: "3 checks passed", at } },
      },
    ],
    slots: [{ replica: "b", version: "3" }],
  });
  const asB = await observeFleet(a, "m", SETTINGS, "b");
  assert.equal(asB.replica, "b");
  assert.equal(asB.coordinator, false, "read on behalf of b: b does not coordinate");
  fleet.setReachable(false);
  const down = await observeFleet(b, "m", SETTINGS);
  assert.equal(down.reachable, false);
  assert.match(down.reason ?? "", /etcd unreachable/);
  assert.deepEqual([down.rollouts, down.members, down.slots], [[], [], []]);
});

test("fleet steps: each one call, a lost race is a failed outcome with its reason", async () => {
  const fleet = new MemoryFleet();
  const a = await started(fleet, "a");
  const b = await started(fleet, "b");
  const open = { kind: "fleet-open", model: "m", version: "3", reason: "newest" } as const;
  assert.equal((await applyFleetStep(a, open)).ok, true);
  const again = await applyFleetStep(b, { ...open, version: "4" });
  assert.deepEqual(again, { ok: false, reason: "another rollout of m is open, or 4 was opened before" });
  const slot = { kind: "fleet-acquire-slot", model: "m", version: "3", max: 1 } as const;
  assert.equal((await applyFleetStep(a, slot)).ok, true);
  assert.deepEqual(await applyFleetStep(b, slot), { ok: false, reason: "all 1 load slot(s) of m are taken" });
  await applyFleetStep(a, { kind: "fleet-release-slot", model: "m", version: "3", reason: "passed" });
  assert.equal((await applyFleetStep(b, slot)).ok, true);
  await applyFleetStep(b, { kind: "fleet-report", model: "m", version: "3", phase: "failed", reason: "NaN" });
  assert.equal((await a.rollouts("m"))[0]?.reports.b?.phase, "failed");
  const decide = {
    kind: "fleet-decide",
    model: "m",
    version: "3",
    verdict: "reject",
    reason: "b failed",
  } as const;
  assert.equal((await applyFleetStep(a, decide)).ok, true);
  assert.equal((await a.rollouts("m"))[0]?.decision?.by, "a");
  assert.equal((await applyFleetStep(b, { ...decide, verdict: "promote" })).ok, false);
  const removed = { kind: "fleet-mark-removed", model: "m", version: "3", as: ".rejected-3-x" } as const;
  assert.equal((await applyFleetStep(a, removed)).ok, true);
  assert.equal((await applyFleetStep(a, removed)).ok, false);
  fleet.setReachable(false);
  const down = await applyFleetStep(a, {
    kind: "fleet-report",
    model: "m",
    version: "3",
    phase: "unloaded",
    reason: "",
  });
  assert.equal(down.ok, false);
  assert.match(down.reason, /^fleet backend: etcd unreachable/);
});

test("the session copies each new fleet intent once under its id, keeps the ready flag, and wakes models when the backend is back", async (t) => {
  const tmp = tempDir("tfs-fleet-session-");
  t.after(() => tmp.cleanup());
  const state = await openLocalState(tmp.dir);
  const fleet = new MemoryFleet();
  const operator = await started(fleet, "ops");
  await operator.putIntent({ id: "old", model: "m", kind: "pin", args: { version: "1" }, by: "cli:bob" });
  await new Promise((resolve) => setTimeout(resolve, 5)); // the session starts strictly after "old"
  const enqueued: string[] = [];
  const session = new FleetSession(fleet.replica("a"), () => SETTINGS, state.intents, silent);
  t.after(() => session.stop());
  await session.start((model) => enqueued.push(model));
  await operator.putIntent({ id: "pin-2", model: "m", kind: "pin", args: { version: "2" }, by: "cli:alice" });

  const view = await session.observe("m", "1");
  assert.equal(view.coordinator, true, "the first to campaign coordinates");
  const pending = await state.intents.pending("m");
  assert.deepEqual(
    pending.map((i) => [i.id, i.kind, i.args, i.by]),
    [["pin-2", "pin", { version: "2" }, "cli:alice"]],
    "only intents issued since the session started are copied",
  );
  await session.observe("m", "1");
  assert.equal((await state.intents.pending("m")).length, 1, "copied once");
  await state.intents.markConsumed("m", "pin-2", "daemon", { outcome: "done" });
  await session.observe("m", "1");
  assert.equal((await state.intents.pending("m")).length, 0, "a consumed intent is not copied again");

  const me = async () => (await operator.members()).find((m) => m.replica === "a");
  assert.equal((await me())?.ready, true, "no fleet promotion yet and a stable: ready");
  await operator.openRollout("m", "5");
  await operator.decide("m", "5", { verdict: "promote", reason: "ok", by: "ops" });
  await session.observe("m", "1");
  assert.equal((await me())?.ready, false, "the fleet promoted 5, this replica is on 1");
  await session.observe("m", "5");
  assert.equal((await me())?.ready, true);

  fleet.setReachable(false);
  assert.equal((await session.observe("m", "5")).reachable, false);
  enqueued.length = 0;
  fleet.setReachable(true);
  await waitFor("m enqueued once the backend answers", () => enqueued.includes("m"), 5000);
});

test("fleet settings from the daemon config: max_loading and the policy", async () => {
  const file = "/etc/tfs-rollout/config.yaml";
  const config = await loadDaemonConfig(
    { config: file, modelConfigFile: "/m" },
    {},
    memoryReader({ [file]: "coordination:\n  fleet: { max_loading: 3, policy: quorum, quorum: 2 }\n" }),
  );
  assert.deepEqual(fleetSettings(config), { maxLoading: 3, policy: { kind: "quorum", quorum: 2 } });
});
