import assert from "node:assert/strict";
import { test } from "node:test";
import { asJson, isActor } from "../src/state/records.js";

test("actors: daemon, auto-rollback, cli:<user>", () => {
  for (const actor of ["daemon", "auto-rollback", "cli:alice", "cli:uid-1000"])
    assert.ok(isActor(actor), actor);
  for (const actor of ["", "cli:", "cli:a b", "operator", 3, undefined])
    assert.ok(!isActor(actor), String(actor));
});

test("asJson accepts plain JSON values and refuses what JSON would change", () => {
  const value = { a: [1, "x", null, true, { b: -0.5 }] };
  assert.deepEqual(asJson(value, "v"), value);
  assert.notEqual(asJson(value, "v"), value, "a copy: later changes by the caller do not leak in");
  for (const bad of [undefined, Number.NaN, { x: undefined }, [Infinity], new Date(0), new Map(), () => 1])
    assert.throws(() => asJson(bad, "thing"), /thing is not plain JSON/);
});
