import assert from "node:assert/strict";
import { test } from "node:test";
import type { FleetIntent } from "../src/fleet/backend.js";
import { fleetIntentId, intentOrder, isUndecided, mayDecide } from "../src/fleet/records.js";

const promote = { verdict: "promote", reason: "", at: "t", by: "a" } as const;
const reject = { verdict: "reject", reason: "", at: "t", by: "a" } as const;

test("mayDecide: any decision on an undecided or unopened rollout; over a promote only an override reject", () => {
  assert.equal(mayDecide(undefined, { verdict: "promote" }), true);
  assert.equal(mayDecide({}, { verdict: "reject" }), true);
  assert.equal(mayDecide({ decision: promote }, { verdict: "reject" }), false);
  assert.equal(mayDecide({ decision: promote }, { verdict: "reject", override: true }), true);
  assert.equal(mayDecide({ decision: promote }, { verdict: "promote", override: true }), false);
  assert.equal(mayDecide({ decision: reject }, { verdict: "reject", override: true }), false);
  assert.equal(mayDecide({ decision: { ...reject, override: true } }, { verdict: "promote" }), false);
  assert.equal(isUndecided({}), true);
  assert.equal(isUndecided({ decision: reject }), false);
});

test("fleet intent ids follow the local queue's rule; a missing id is made up", () => {
  assert.equal(fleetIntentId("op_1-a"), "op_1-a");
  assert.match(fleetIntentId(undefined), /^[0-9a-f]{16}$/);
  assert.notEqual(fleetIntentId(undefined), fleetIntentId(undefined));
  for (const bad of ["", "a/b", "../x", "x".repeat(65), "a b"])
    assert.throws(() => fleetIntentId(bad), /fleet intent id must match/, bad);
});

test("intents: oldest first, then by id", () => {
  const intent = (id: string, at: string): FleetIntent => ({
    id,
    at,
    model: "m",
    kind: "pin",
    args: {},
    by: "cli:x",
  });
  const sorted = [intent("b", "2"), intent("c", "1"), intent("a", "2")].sort(intentOrder);
  assert.deepEqual(
    sorted.map((i) => i.id),
    ["c", "a", "b"],
  );
});
