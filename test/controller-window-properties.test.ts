import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { applyOutcome } from "../src/controller/outcome.js";
import { plan } from "../src/controller/plan.js";
import type { DesiredState, PlanOptions, Step } from "../src/controller/types.js";
import {
  complete,
  execute,
  managed,
  observe,
  OPTS,
  settle,
  type Behaviour,
} from "./helpers/controller-world.js";

const HOUR = 3_600_000;

/** One thing that happens between plans. */
type Event =
  | { kind: "window"; open: boolean }
  | { kind: "tick"; ms: number }
  | { kind: "new-version"; behaviour: Behaviour }
  | { kind: "promote-intent" }
  | { kind: "plan"; steps: number };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant("window" as const), open: fc.boolean() }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 2 * HOUR }) }),
  fc.record({
    kind: fc.constant("new-version" as const),
    behaviour: fc.constantFrom<Behaviour>("ok", "ok", "gate-fail", "end"),
  }),
  fc.record({ kind: fc.constant("promote-intent" as const) }),
  fc.record({ kind: fc.constant("plan" as const), steps: fc.integer({ min: 1, max: 12 }) }),
);

const settingsArb = fc.record({
  approval: fc.option(fc.constantFrom<"reject" | "promote">("reject", "promote"), { nil: undefined }),
  windows: fc.boolean(),
});

test("property: with windows, freezes and approval, every label names an AVAILABLE version, stable only moves when allowed, canary never names stable", () => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(settingsArb, fc.array(eventArb, { maxLength: 40 }), (settings, events) => {
      const { d: start, w } = managed(["1"], "1");
      let d: DesiredState = start;
      let windowOpen = false;
      let next = 2;
      let intents = 0;
      const options = (): PlanOptions => ({
        ...OPTS,
        ...(settings.windows
          ? { window: { open: windowOpen, detail: "test", ...(windowOpen ? {} : { opensAt: w.now + HOUR }) } }
          : {}),
        ...(settings.approval
          ? { approval: { required: true, timeoutMs: HOUR, onTimeout: settings.approval } }
          : {}),
      });
      const checkLabels = () => {
        for (const [label, v] of Object.entries(w.config.labels)) {
          assert.equal(w.tf.get(v)?.state, "AVAILABLE", `label ${label} names ${v}, which is not AVAILABLE`);
        }
        assert.notEqual(w.config.labels.canary, w.config.labels.stable ?? "none");
        assert.ok(w.config.labels.stable !== undefined, "stable never removed");
      };
      for (const event of events) {
        switch (event.kind) {
          case "window":
            windowOpen = event.open;
            break;
          case "tick":
            w.now += event.ms;
            break;
          case "new-version": {
            const v = String(next++);
            w.behaviour[v] = event.behaviour;
            w.disk = [...w.disk, ...complete(v)];
            break;
          }
          case "promote-intent":
            d = {
              ...d,
              intents: [...d.intents, { id: `i${intents++}`, by: "cli:op", at: w.now, kind: "promote" }],
            };
            break;
          case "plan":
            for (let i = 0; i < event.steps; i++) {
              d = { ...d, disk: w.disk };
              const opts = options();
              const result = plan(d, observe(w), opts);
              const step: Step | undefined = result.steps[0];
              if (step === undefined || step.kind === "wait") break;
              if (step.kind === "promote" && d.promote === undefined && d.pin === undefined) {
                // A candidate moves stable only inside a window and once approved (or auto-approved on timeout).
                if (opts.window) assert.equal(opts.window.open, true, "promoted outside a window");
                if (opts.approval) {
                  const requested = d.progress[step.version]?.approval;
                  assert.ok(
                    requested !== undefined && w.now >= requested.deadline,
                    "promoted without approval",
                  );
                  assert.equal(opts.approval.onTimeout, "promote");
                }
              }
              seen.set(step.kind, (seen.get(step.kind) ?? 0) + 1);
              if (step.kind === "await-available") settle(w);
              const outcome = execute(w, step);
              d = applyOutcome(d, step, outcome, w.now).desired;
              checkLabels();
              w.now += 1000;
            }
            break;
        }
      }
      checkLabels();
    }),
    { numRuns: 300 },
  );
  // The runs reach every part of the hold: canary labels, approval requests, promotions by intent and by window.
  for (const kind of ["canary", "request-approval", "promote", "start-promote"])
    assert.ok((seen.get(kind) ?? 0) > 0, `no ${kind} step in any run: ${JSON.stringify([...seen])}`);
});
