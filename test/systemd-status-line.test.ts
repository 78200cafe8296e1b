import assert from "node:assert/strict";
import { test } from "node:test";
import { startStatusReporter, statusLine } from "../src/systemd/status-line.js";
import { waitFor } from "./helpers/emulator-harness.js";

test("the status line names the models, what the waiting ones wait for and the last promotion", () => {
  assert.equal(statusLine({ models: ["m"], waits: new Map() }), "1 model, none waiting");
  assert.equal(
    statusLine({
      models: ["a", "b"],
      waits: new Map([["b", "unreachable: TF Serving is unreachable"]]),
      lastPromotion: { model: "a", version: "7", at: Date.UTC(2026, 0, 2, 3, 4, 5) },
    }),
    "2 models; b waits (unreachable: TF Serving is unreachable); last promotion: a 7 at 2026-01-02T03:04:05Z",
  );
});

test("a long line is clipped in the waits, never in the last promotion", () => {
  const waits = new Map(Array.from({ length: 20 }, (_, i) => [`model-${i}`, "admission-pending: copying"]));
  const line = statusLine({
    models: [...waits.keys()],
    waits,
    lastPromotion: { model: "x", version: "9", at: 0 },
  });
  assert.ok(line.length <= 200, `${line.length}`);
  assert.match(line, /…; last promotion: x 9 at 1970-01-01T00:00:00Z$/);
  assert.doesNotMatch(line, /\n/);
});

test("the reporter sends only when the line changed", async () => {
  const sent: string[] = [];
  let waits = new Map<string, string>();
  const reporter = startStatusReporter({
    read: () => ({ models: ["m"], waits }),
    send: (l) => sent.push(l),
    intervalMs: 20,
  });
  try {
    reporter.update();
    reporter.update();
    assert.deepEqual(sent, ["1 model, none waiting"]);
    waits = new Map([["m", "pinned: to 3"]]);
    await waitFor("the timer notices the change", () => sent.length === 2, 5000);
    assert.equal(sent[1], "1 model; m waits (pinned: to 3)");
  } finally {
    reporter.stop();
  }
});
