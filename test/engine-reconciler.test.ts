import assert from "node:assert/strict";
import { test } from "node:test";
import { createEngineLogger } from "../src/engine/logger.js";
import type { PassResult } from "../src/engine/model-pass.js";
import { Reconciler } from "../src/engine/reconciler.js";
import { waitFor } from "./helpers/emulator-harness.js";

const converged: PassResult = { kind: "converged", reason: "converged" };

function harness(pass: (model: string) => Promise<PassResult>, maxParallel = 4, backoffMs = 10) {
  const lines: string[] = [];
  const log = createEngineLogger({ write: (l) => lines.push(l) });
  const reconciler = new Reconciler({
    pass,
    log,
    maxParallel,
    now: Date.now,
    backoff: { initialMs: backoffMs, maxMs: backoffMs * 2 },
  });
  return { reconciler, lines };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

test("a model enqueued while queued or running is run again once, not once per enqueue", async () => {
  const first = gate();
  let calls = 0;
  const { reconciler } = harness(async () => {
    calls++;
    if (calls === 1) await first.opened;
    return converged;
  });
  reconciler.enqueue("m");
  await waitFor("first pass running", () => calls === 1);
  reconciler.enqueue("m");
  reconciler.enqueue("m");
  reconciler.enqueue("m");
  first.open();
  await waitFor("rerun", () => calls === 2);
  await reconciler.idle();
  assert.equal(calls, 2);
  assert.equal(reconciler.outcomes.get("m"), "converged");
  await reconciler.stop();
});

test("at most maxParallel models run at once", async () => {
  const release = gate();
  let running = 0;
  let peak = 0;
  const { reconciler } = harness(async () => {
    running++;
    peak = Math.max(peak, running);
    await release.opened;
    running--;
    return converged;
  }, 2);
  for (const m of ["a", "b", "c", "d"]) reconciler.enqueue(m);
  await waitFor("two running", () => running === 2);
  release.open();
  await waitFor("all done", () => reconciler.outcomes.size === 4);
  assert.equal(peak, 2);
  await reconciler.stop();
});

test("a wait re-enqueues the model after its `until`; steps loop until converged", async () => {
  const seen: string[] = [];
  const results: PassResult[] = [
    {
      kind: "wait",
      reason: "pinned",
      step: { kind: "wait", model: "m", reason: "pinned", detail: "pinned to 1", until: Date.now() + 30 },
    },
    {
      kind: "stepped",
      ok: true,
      reason: "ok",
      step: { kind: "admit", model: "m", candidate: "2", skipped: [] },
    },
    converged,
  ];
  const { reconciler, lines } = harness(async () => {
    const next = results.shift() ?? converged;
    seen.push(next.kind);
    return next;
  });
  reconciler.enqueue("m");
  await waitFor("converged after the wait", () => reconciler.outcomes.get("m") === "converged");
  assert.deepEqual(seen, ["wait", "stepped", "converged"]);
  assert.ok(lines.some((l) => l.includes('"waiting_for":"pinned: pinned to 1"')));
  await reconciler.stop();
});

test("failed steps in a row back off instead of spinning", async () => {
  let calls = 0;
  const { reconciler, lines } = harness(
    async () => {
      calls++;
      return {
        kind: "stepped",
        ok: false,
        reason: "refused",
        step: { kind: "admit", model: "m", candidate: "2", skipped: [] },
      };
    },
    4,
    60_000,
  );
  reconciler.enqueue("m");
  await waitFor("backing off", () => reconciler.outcomes.get("m") === "failing");
  assert.equal(calls, 5);
  assert.ok(lines.some((l) => l.includes("5 failed steps in a row")));
  await reconciler.stop();
});

test("runOnce: true only when every model converged, and leaves no timer behind", async () => {
  const { reconciler } = harness(async (model) =>
    model === "waiting"
      ? {
          kind: "wait",
          reason: "unreachable",
          step: { kind: "wait", model, reason: "unreachable", detail: "TF Serving is unreachable" },
        }
      : converged,
  );
  assert.equal(await reconciler.runOnce(["a", "b"]), true);
  assert.equal(await reconciler.runOnce(["a", "waiting"]), false);
  assert.equal(reconciler.outcomes.get("waiting"), "waiting");
});

test("a pass that throws is logged and retried with backoff", async () => {
  let calls = 0;
  const { reconciler, lines } = harness(async () => {
    if (++calls === 1) throw new Error("models.config unreadable");
    return converged;
  });
  reconciler.enqueue("m");
  await waitFor("retried", () => reconciler.outcomes.get("m") === "converged");
  assert.ok(lines.some((l) => l.includes("models.config unreadable")));
  await reconciler.stop();
});

test("setMaxParallel (SIGHUP): raising the bound starts queued models at once; lowering it holds new starts", async () => {
  const release = gate();
  const started: string[] = [];
  let running = 0;
  const { reconciler } = harness(async (model) => {
    started.push(model);
    running++;
    await release.opened;
    running--;
    return converged;
  }, 1);
  for (const m of ["a", "b", "c"]) reconciler.enqueue(m);
  await waitFor("one running", () => running === 1);
  reconciler.setMaxParallel(3);
  await waitFor("all three running", () => running === 3);
  release.open();
  await waitFor("all done", () => reconciler.outcomes.size === 3);

  const second = gate();
  let peak = 0;
  const { reconciler: lowered } = harness(async () => {
    running++;
    peak = Math.max(peak, running);
    await second.opened;
    running--;
    return converged;
  }, 4);
  lowered.setMaxParallel(1);
  for (const m of ["a", "b", "c"]) lowered.enqueue(m);
  await waitFor("one running", () => running === 1);
  second.open();
  await waitFor("all done", () => lowered.outcomes.size === 3);
  assert.equal(peak, 1);
  await reconciler.stop();
  await lowered.stop();
});

test("forget: a model no longer managed loses its queued run, retry timer and reported wait", async () => {
  const runs: string[] = [];
  let retryAt = 0;
  const { reconciler } = harness(async (model) => {
    runs.push(model);
    if (model !== "m") return converged;
    retryAt = Date.now() + 50;
    return {
      kind: "wait",
      step: { kind: "wait", model, reason: "not-in-config", detail: "gone", until: retryAt },
      reason: "gone",
    };
  });
  reconciler.enqueue("m");
  await waitFor("waiting reported", () => reconciler.waits().has("m"));
  reconciler.forget("m");
  assert.equal(reconciler.waits().has("m"), false);
  assert.equal(reconciler.outcomes.has("m"), false);
  const seen = runs.length;
  // Its retry timer (50 ms) was cleared: an enqueue of another model runs, "m" does not come back.
  reconciler.enqueue("other");
  await waitFor("other ran", () => runs.includes("other"));
  await waitFor("well past m's retry time", () => Date.now() > retryAt + 200);
  await reconciler.idle();
  assert.equal(runs.filter((m) => m === "m").length, seen);
  await reconciler.stop();
});

test("runOnce waits out a short quiet window (a fresh process has never seen the directory), a few times at most", async () => {
  const pending = (recheckInMs: number): PassResult => ({
    kind: "wait",
    step: { kind: "wait", model: "m", reason: "admission-pending", detail: "3 still being copied" },
    reason: "waiting",
    recheckInMs,
  });
  let calls = 0;
  const quiet = harness(async () => (++calls <= 2 ? pending(20) : converged));
  assert.equal(await quiet.reconciler.runOnce(["m"]), true);
  assert.equal(calls, 3);

  let busy = 0;
  const changing = harness(async () => {
    busy++;
    return pending(20);
  });
  assert.equal(
    await changing.reconciler.runOnce(["m"]),
    false,
    "a tree that keeps changing is left for later",
  );
  assert.equal(busy, 4);

  let long = 0;
  const copying = harness(async () => {
    long++;
    return pending(10 * 60_000);
  });
  assert.equal(await copying.reconciler.runOnce(["m"]), false, "an incomplete copy is not waited for");
  assert.equal(long, 1);
});

test("a successful step ends the backoff: the next failure streak starts from initialMs again", async () => {
  const lines: string[] = [];
  const interrupted: PassResult = {
    kind: "interrupted",
    step: { kind: "gate", model: "m", version: "2" } as never,
    reason: "TF Serving unreachable",
  };
  const stepped = (ok: boolean): PassResult => ({
    kind: "stepped",
    step: { kind: "promote", model: "m", version: "2" } as never,
    ok,
    reason: ok ? "done" : "refused",
  });
  // Three outages (backoff 5, 10, 20 ms), one step that succeeds, then five failed steps in a row.
  const script = [
    interrupted,
    interrupted,
    interrupted,
    stepped(true),
    ...Array(5).fill(stepped(false)),
    converged,
  ];
  let call = 0;
  const reconciler = new Reconciler({
    pass: async () => script[Math.min(call++, script.length - 1)]!,
    log: createEngineLogger({ write: (l) => lines.push(l) }),
    maxParallel: 1,
    now: Date.now,
    backoff: { initialMs: 5, maxMs: 10_000 },
  });
  reconciler.enqueue("m");
  const backingOff = await waitFor("backing off after the failure streak", () =>
    lines.find((l) => l.includes("failed steps in a row")),
  );
  assert.equal((JSON.parse(backingOff) as { retry_in_ms: number }).retry_in_ms, 5);
  await reconciler.stop();
});
