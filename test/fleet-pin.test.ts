// Fleet mode: the fleet's pin is a state (`pins/<model>`), not only an event: a replica whose daemon was down when
// a fleet-wide pin or unpin was issued applies it when it comes back, under the same intent id.
import assert from "node:assert/strict";
import { test } from "node:test";
import { allStable, fleetCli, rolloutOf, startFleetWorld, waitFleet } from "./helpers/memory-fleet-world.js";
import { publish } from "./helpers/rollout-world.js";

/** Run the command as on this replica's host. */
const on = (r: { daemonFile: string }) => ["--config", r.daemonFile, "--timeout", "30s"];

test("a pin and an unpin issued while a replica was down are applied when it comes back", async (t) => {
  const w = await startFleetWorld(t);
  const cli = fleetCli(t, w);
  const r3 = w.replica("r3");
  const r2 = w.replica("r2");
  await w.stop("r2");

  const pin = await cli(["pin", "m", "1", "--reason", "held for the demo", ...on(r3)]);
  assert.equal(pin.code, 0, `${pin.out}\n${pin.err}`);
  const observer = w.fleet.replica("observer");
  await observer.start();
  t.after(() => observer.stop());
  const pinState = await observer.getPin("m");
  assert.equal(pinState?.kind, "pin");
  assert.equal(pinState?.args.version, "1");
  publish(w.base, "2");
  await waitFleet(
    w,
    "the fleet promoted 2",
    async () => (await rolloutOf(w, "2"))?.decision?.verdict === "promote",
  );
  assert.ok(allStable(w, "1", ["r1", "r3"]), "pinned: nobody moved");

  const before = r2.steps.length;
  await w.start("r2");
  const setPin = await waitFleet(w, "r2 applied the fleet's pin", () =>
    r2.steps.slice(before).find((e) => e.step.kind === "set-pin"),
  );
  assert.ok(
    setPin.step.kind === "set-pin" && setPin.step.intentId === pinState?.id,
    "the fleet's pin, same id",
  );
  await waitFleet(w, "r2 settled on its pin", () => r2.engine?.reconciler.outcomes.get("m") === "converged");
  const back = r2.steps.slice(before);
  assert.ok(!back.some((e) => e.step.kind === "promote"), "r2 never moved to the fleet's stable 2");
  assert.equal(w.stable("r2"), "1");

  await w.stop("r2");
  const unpin = await cli(["unpin", "m", ...on(r3)]);
  assert.equal(unpin.code, 0, `${unpin.out}\n${unpin.err}`);
  assert.equal((await observer.getPin("m"))?.kind, "unpin");
  await waitFleet(w, "r1 and r3 on the fleet's stable 2", () => allStable(w, "2", ["r1", "r3"]));
  assert.equal(w.stable("r2"), "1");
  await w.start("r2");
  await waitFleet(w, "r2 unpinned and on the fleet's stable 2", () => w.stable("r2") === "2");
  const pins = r2.steps.filter((e) => e.step.kind === "set-pin");
  assert.equal(pins.length, 2, "the pin once, the unpin once: nothing replayed twice");
});
