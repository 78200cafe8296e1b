// The fleet path of the intent commands (src/commands/fleet-intent.ts) against the in-memory fleet backend.
import assert from "node:assert/strict";
import { test } from "node:test";
import { putFleetIntent } from "../src/commands/fleet-intent.js";
import type { CliFleet } from "../src/commands/fleet-view.js";
import { RefusedError, UnreachableError } from "../src/errors.js";
import { MemoryFleet } from "../src/fleet/memory-backend.js";

async function cliFleet(fleet: MemoryFleet, problem?: string): Promise<CliFleet> {
  const backend = fleet.replica("r1~cli-1");
  if (problem === undefined) await backend.start();
  return { backend, ...(problem === undefined ? {} : { problem }), close: () => backend.stop() };
}

const by = "cli:alice";

test("pin and unpin become fleet intents under one id, with their arguments", async () => {
  const fleet = new MemoryFleet();
  const cli = await cliFleet(fleet);
  const pin = await putFleetIntent(cli, {
    model: "m",
    kind: "pin",
    args: { version: "3", reason: "freeze" },
    by,
  });
  assert.equal(pin.kind, "pin");
  assert.deepEqual(pin.args, { version: "3", reason: "freeze" });
  const stored = await cli.backend.intents("m");
  assert.deepEqual(
    stored.map((i) => [i.id, i.kind, i.by]),
    [[pin.id, "pin", by]],
  );
});

test("a fleet rollback records the operator's override reject on every version it takes out", async () => {
  const fleet = new MemoryFleet();
  const cli = await cliFleet(fleet);
  await cli.backend.openRollout("m", "3");
  await cli.backend.decide("m", "3", { verdict: "promote", reason: "ok", by: "r1" });
  await putFleetIntent(cli, {
    model: "m",
    kind: "rollback",
    args: { to: "2", action: "rename" },
    by,
    reject: { versions: ["3", "4"], reason: "operator rollback to 2" },
  });
  const decisions = (await cli.backend.rollouts("m")).map((r) => [
    r.version,
    r.decision?.verdict,
    r.decision?.override,
    r.decision?.by,
  ]);
  assert.deepEqual(decisions, [
    ["3", "reject", true, by],
    ["4", "reject", true, by],
  ]);
});

test("a fleet promote is the fleet's decision: the named version or the open rollout; never a rejected one", async () => {
  const fleet = new MemoryFleet();
  const cli = await cliFleet(fleet);
  await assert.rejects(
    putFleetIntent(cli, { model: "m", kind: "promote", args: { skipGates: false }, by }),
    (error: unknown) => error instanceof RefusedError && /no fleet rollout is open/.test(error.message),
  );
  await cli.backend.openRollout("m", "5");
  const intent = await putFleetIntent(cli, { model: "m", kind: "promote", args: { skipGates: false }, by });
  assert.deepEqual(intent.args, { skipGates: false, version: "5" });
  const five = (await cli.backend.rollouts("m")).find((r) => r.version === "5");
  assert.deepEqual([five?.decision?.verdict, five?.decision?.by], ["promote", by]);
  await cli.backend.decide("m", "6", { verdict: "reject", reason: "gate failed on r2", by: "r1" });
  await assert.rejects(
    putFleetIntent(cli, { model: "m", kind: "promote", args: { version: "6" }, by }),
    (error: unknown) =>
      error instanceof RefusedError && /the fleet rejected it \(gate failed on r2\)/.test(error.message),
  );
});

test("retry is not fleet-wide, and nothing is recorded while etcd is unreachable", async () => {
  const fleet = new MemoryFleet();
  const cli = await cliFleet(fleet);
  await assert.rejects(
    putFleetIntent(cli, { model: "m", kind: "retry", args: { version: "3" }, by }),
    (error: unknown) =>
      error instanceof RefusedError && /retry is not a fleet-wide command/.test(error.message),
  );
  const down = await cliFleet(fleet, "etcd unreachable");
  await assert.rejects(
    putFleetIntent(down, { model: "m", kind: "unpin", args: {}, by }),
    (error: unknown) => error instanceof UnreachableError && /nothing was recorded/.test(error.message),
  );
  assert.deepEqual(await cli.backend.intents("m"), []);
});
