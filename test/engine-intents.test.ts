import assert from "node:assert/strict";
import { test } from "node:test";
import { pendingIntents, toControllerIntent } from "../src/engine/intents.js";
import { openLocalState } from "../src/state/local-store.js";
import type { Intent } from "../src/state/store.js";
import { tempDir } from "./helpers/version-dir.js";

const stored = (kind: string, args: Intent["args"]): Intent => ({
  id: "i1",
  model: "m",
  kind,
  args,
  by: "cli:ops",
  at: "2026-11-22T00:00:00.000Z",
});

test("CLI intents become the controller's typed intents", () => {
  const at = Date.parse("2026-11-22T00:00:00.000Z");
  assert.deepEqual(toControllerIntent(stored("rollback", { to: 7, action: "delete" })), {
    id: "i1",
    by: "cli:ops",
    at,
    kind: "rollback",
    to: "7",
    action: "delete",
  });
  assert.deepEqual(toControllerIntent(stored("promote", { version: "0012", skip_gates: true })), {
    id: "i1",
    by: "cli:ops",
    at,
    kind: "promote",
    version: "12",
    skipGates: true,
  });
  assert.deepEqual(toControllerIntent(stored("pin", { version: "3", reason: "incident" })), {
    id: "i1",
    by: "cli:ops",
    at,
    kind: "pin",
    version: "3",
    reason: "incident",
  });
  assert.deepEqual(toControllerIntent(stored("retry", { version: 4 })), {
    id: "i1",
    by: "cli:ops",
    at,
    kind: "retry",
    version: "4",
  });
  assert.match((toControllerIntent(stored("pin", {})) as { invalid: string }).invalid, /needs a version/);
  assert.match(
    (toControllerIntent(stored("explode", null)) as { invalid: string }).invalid,
    /unknown intent kind/,
  );
});

test("an unreadable intent is consumed as refused and does not block the others", async (t) => {
  const state = await openLocalState(tempDir(t, "engine-intents-"));
  await state.intents.put({ model: "m", kind: "bogus", args: {}, by: "cli:ops" });
  await state.intents.put({ model: "m", kind: "unpin", args: {}, by: "cli:ops" });
  const intents = await pendingIntents(state.intents, "m");
  assert.deepEqual(
    intents.map((i) => i.kind),
    ["unpin"],
  );
  assert.equal((await state.intents.pending("m")).length, 1);
});
