// Fleet mode: manual approval and promotion windows hold the coordinator's promote decision (plan-fleet.ts
// fleetHold), so the whole fleet moves together; the approval is the operator's fleet-wide `tfs-rollout promote`.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allStable,
  fleetCli,
  IDS,
  rolloutOf,
  startFleetWorld,
  stepsOf,
  waitFleet,
} from "./helpers/memory-fleet-world.js";
import { publish } from "./helpers/rollout-world.js";

test("approval required: the fleet holds a version every replica passed until the operator's promote, then all move", async (t) => {
  const w = await startFleetWorld(t, 1, { extra: ["approval:", "  required: true", "  timeout: 1h"] });
  const cli = fleetCli(t, w);
  publish(w.base, "2");
  await waitFleet(w, "the coordinator asked for approval", () => stepsOf(w, "request-approval", "2")[0]);
  const coordinator = stepsOf(w, "request-approval", "2")[0]!.replica;
  await waitFleet(w, "the coordinator waits for approval", () =>
    w.replica(coordinator).engine?.reconciler.waits().get("m")?.startsWith("approval"),
  );
  const rollout = await rolloutOf(w, "2");
  assert.equal(rollout?.decision, undefined, "not decided without approval");
  assert.deepEqual(
    Object.values(rollout?.reports ?? {}).map((r) => r.phase),
    IDS.map(() => "passed"),
  );
  assert.ok(allStable(w, "1"));
  assert.equal(stepsOf(w, "request-approval").length, 1, "asked once, by the coordinator");
  assert.equal(stepsOf(w, "canary").length, 0, "no canary label in fleet mode");

  const promote = await cli(["promote", "m", "--config", w.replica("r2").daemonFile, "--timeout", "30s"]);
  assert.equal(promote.code, 0, `${promote.out}\n${promote.err}`);
  await waitFleet(w, "stable 2 everywhere", () => allStable(w, "2"));
  const decided = await rolloutOf(w, "2");
  assert.equal(decided?.decision?.verdict, "promote");
  assert.equal(decided?.decision?.by, "cli:alice");
  assert.equal(stepsOf(w, "fleet-decide", "2").length, 0, "the operator decided, not the coordinator");
});

test("a freeze holds the fleet's promote decision: every replica passed, nobody moves, the coordinator says why", async (t) => {
  const w = await startFleetWorld(t, 1, {
    extra: [
      "promotion:",
      "  freezes:",
      '    - from: "2020-01-01T00:00:00+00:00"',
      '      to: "2099-01-01T00:00:00+00:00"',
    ],
  });
  publish(w.base, "2");
  await waitFleet(
    w,
    "every replica passed 2",
    async () =>
      allStable(w, "1") &&
      Object.values((await rolloutOf(w, "2"))?.reports ?? {}).filter((r) => r.phase === "passed").length ===
        3,
  );
  const coordinator = stepsOf(w, "fleet-open", "2")[0]!.replica;
  const waits = await waitFleet(w, "the coordinator waits for the window", () => {
    const reason = w.replica(coordinator).engine?.reconciler.waits().get("m");
    return reason?.startsWith("window") ? reason : undefined;
  });
  assert.match(waits, /fleet candidate 2 passed on the fleet and waits for a promotion window: in freeze/);
  assert.equal((await rolloutOf(w, "2"))?.decision, undefined);
  assert.ok(allStable(w, "1"));
});
