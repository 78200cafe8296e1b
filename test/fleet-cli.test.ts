// Operator commands in fleet mode, in process: `status` shows the fleet block, `rollback` acts on the whole fleet
// through a fleet intent and the operator's override decision, `retry` is refused. Three Engines agree through the
// in-memory fleet backend (helpers/memory-fleet-world.ts); the commands get their own member of that fleet.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { FleetStatus } from "../src/commands/fleet-view.js";
import {
  allStable,
  fleetCli,
  IDS,
  removedRollout,
  rolloutOf,
  startFleetWorld,
  waitFleet,
  waitRolledBack,
} from "./helpers/memory-fleet-world.js";
import { publish } from "./helpers/rollout-world.js";

test("fleet mode: status shows the fleet, a rollback moves every replica back and the coordinator removes the version once", async (t) => {
  const w = await startFleetWorld(t);
  const cli = fleetCli(t, w);
  publish(w.base, "2");
  await waitFleet(w, "stable 2 everywhere", () => allStable(w, "2"), 40_000);
  await waitFleet(w, "every replica reported promoted", async () =>
    Object.values((await rolloutOf(w, "2"))?.reports ?? {}).every((r) => r.phase === "promoted"),
  );

  const r1 = w.replica("r1");
  const status = await cli(["status", "m", "--json", "--config", r1.daemonFile]);
  assert.equal(status.code, 0, status.err);
  const fleet = (JSON.parse(status.out) as { models: { fleet: FleetStatus }[] }).models[0]?.fleet;
  assert.equal(fleet?.reachable, true);
  assert.equal(fleet?.stable, "2");
  assert.deepEqual(
    fleet?.members.map((m) => m.replica),
    [...IDS],
    "the command's own fleet identity is not shown",
  );
  assert.equal(fleet?.rollout?.version, "2");
  assert.equal(fleet?.rollout?.decision?.verdict, "promote");
  assert.deepEqual(
    fleet?.rollout?.reports.map((r) => [r.replica, r.phase]),
    IDS.map((id) => [id, "promoted"]),
  );
  assert.ok(fleet?.coordinator !== null && IDS.includes(fleet?.coordinator as (typeof IDS)[number]));
  const text = await cli(["status", "m", "--config", r1.daemonFile]);
  assert.match(text.out, /fleet: replica r1, coordinator r\d, fleet stable 2, members r1, r2, r3/);
  assert.match(text.out, /fleet rollout 2: opened by r\d .*; promote by r\d/);

  const history = await cli(["history", "m", "--json", "--config", r1.daemonFile]);
  assert.equal(history.code, 0, history.err);
  const trail = (
    JSON.parse(history.out) as { events: { step: string; version?: string; by: string; what: string }[] }
  ).events;
  const fleetSteps = trail.filter((e) => e.version === "2" && e.step.startsWith("fleet-"));
  assert.equal(
    fleetSteps.filter((e) => e.step === "fleet-open" && e.what.includes("opened")).length >= 1,
    true,
  );
  assert.ok(fleetSteps.some((e) => e.step === "fleet-decide" && /fleet decided promote/.test(e.what)));
  for (const id of IDS)
    assert.ok(
      fleetSteps.some((e) => e.by === id && e.what === `replica ${id} reported promoted`),
      `history shows ${id}'s report`,
    );
  const historyText = await cli(["history", "m", "--config", r1.daemonFile]);
  assert.match(historyText.out, /replica r3 reported promoted/);

  const retry = await cli(["retry", "m", "1", "--config", r1.daemonFile, "--timeout", "5s"]);
  assert.equal(retry.code, 4, retry.err);
  assert.match(retry.err, /retry is not a fleet-wide command/);

  const rollback = await cli(["rollback", "m", "--yes", "--config", r1.daemonFile, "--timeout", "30s"]);
  assert.equal(rollback.code, 0, `${rollback.out}\n${rollback.err}`);
  await waitRolledBack(w, "1", "2");
  const rollout = await removedRollout(w, "2");
  assert.equal(rollout?.decision?.override, true);
  assert.equal(rollout?.decision?.by, "cli:alice");
  assert.equal(existsSync(join(w.base, "2")), false);
  assert.equal(readdirSync(w.base).filter((n) => n.startsWith(".rejected-2-")).length, 1);
  for (const id of IDS) {
    const applied = w.replica(id).steps.filter((e) => e.step.kind === "start-rollback");
    assert.equal(applied.length, 1, `${id} applied the fleet's rollback intent once`);
  }
});

test("fleet mode: status says when etcd is unreachable, and a rollback records nothing", async (t) => {
  const w = await startFleetWorld(t);
  const cli = fleetCli(t, w);
  w.fleet.setReachable(false);
  const r2 = w.replica("r2");
  const status = await cli(["status", "m", "--config", r2.daemonFile]);
  assert.equal(status.code, 3, status.err);
  assert.match(status.out, /fleet: etcd UNREACHABLE .*this replica \(r2\) keeps serving its stable/);
  assert.match(status.out, /next: .*coordination backend is unreachable/);
  assert.match(status.err, /etcd is unreachable/);
  const rollback = await cli(["rollback", "m", "--to", "1", "--yes", "--config", r2.daemonFile]);
  assert.notEqual(rollback.code, 0);
  w.fleet.setReachable(true);
  assert.equal(allStable(w, "1"), true);
});

test("fleet mode: a pin holds every replica on its version although the fleet promoted a newer one; unpin releases them", async (t) => {
  const w = await startFleetWorld(t);
  const cli = fleetCli(t, w);
  const r3 = w.replica("r3");
  const pin = await cli([
    "pin",
    "m",
    "1",
    "--reason",
    "freeze",
    "--config",
    r3.daemonFile,
    "--timeout",
    "30s",
  ]);
  assert.equal(pin.code, 0, `${pin.out}\n${pin.err}`);
  await waitFleet(w, "every replica pinned", () =>
    IDS.every((id) => w.replica(id).steps.some((e) => e.step.kind === "set-pin")),
  );
  publish(w.base, "2");
  await waitFleet(
    w,
    "the fleet promoted 2",
    async () => (await rolloutOf(w, "2"))?.decision?.verdict === "promote",
  );
  await waitFleet(w, "every replica waits on its pin", () =>
    IDS.every((id) => w.replica(id).engine?.reconciler.waits().get("m")?.startsWith("pinned")),
  );
  assert.ok(allStable(w, "1"), "pinned: nobody moved");
  const unpin = await cli(["unpin", "m", "--config", r3.daemonFile, "--timeout", "30s"]);
  assert.equal(unpin.code, 0, `${unpin.out}\n${unpin.err}`);
  await waitFleet(w, "every replica on the fleet's stable 2", () => allStable(w, "2"));
});
