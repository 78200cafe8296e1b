import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AdmissionTracker,
  DEFAULT_INCOMPLETE_DEADLINE_MS,
  DEFAULT_QUIET_WINDOW_MS,
  admissionRules,
  type Observation,
} from "../src/admission/quiet-window.js";

const complete = (digest: string, markerPresent?: boolean): Observation => ({
  complete: true,
  fingerprint: { digest },
  ...(markerPresent === undefined ? {} : { markerPresent }),
});
const incomplete = (digest: string, message = "no saved_model.pb or saved_model.pbtxt yet"): Observation => ({
  complete: false,
  fingerprint: { digest },
  reasons: [{ message }],
});

test("defaults: quiet window 2 s, deadline 1 h; a marker file switches to marker mode", () => {
  assert.deepEqual(admissionRules(), {
    mode: { kind: "quiet", quietWindowMs: DEFAULT_QUIET_WINDOW_MS },
    deadlineMs: DEFAULT_INCOMPLETE_DEADLINE_MS,
  });
  assert.equal(DEFAULT_QUIET_WINDOW_MS, 2000);
  assert.equal(DEFAULT_INCOMPLETE_DEADLINE_MS, 3_600_000);
  assert.deepEqual(admissionRules({ markerFile: "_SUCCESS", deadlineMs: 5 }), {
    mode: { kind: "marker", markerFile: "_SUCCESS" },
    deadlineMs: 5,
  });
});

test("quiet mode: complete only after the same fingerprint was seen for the whole window", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 2000 }), 1000);
  const first = tracker.observe(complete("a"), 1000);
  assert.equal(first.state, "pending");
  assert.equal(first.recheckInMs, 2000);
  assert.match(first.detail, /waiting for 2000 ms without changes/);
  assert.deepEqual(
    [tracker.observe(complete("a"), 2999).state, tracker.observe(complete("a"), 2999).recheckInMs],
    ["pending", 1],
  );
  assert.equal(tracker.observe(complete("a"), 3000).state, "complete");
});

test("any change restarts the quiet window", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 2000 }), 0);
  tracker.observe(complete("a"), 0);
  const changed = tracker.observe(complete("b"), 1500);
  assert.equal(changed.state, "pending");
  assert.equal(changed.recheckInMs, 2000);
  assert.equal(tracker.observe(complete("b"), 3000).state, "pending");
  assert.equal(tracker.observe(complete("b"), 3500).state, "complete");
});

test("an incomplete tree stays pending however quiet it is, saying why", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 10, deadlineMs: 60_000 }), 0);
  tracker.observe(incomplete("a", "1 of 2 data shards missing"), 0);
  const status = tracker.observe(incomplete("a", "1 of 2 data shards missing"), 50_000);
  assert.equal(status.state, "pending");
  assert.equal(status.detail, "incomplete: 1 of 2 data shards missing");
  assert.equal(status.recheckInMs, 10_000, "re-check at the deadline");
});

test("a directory not complete by the deadline is overdue, finally, with the last reason", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 10, deadlineMs: 60_000 }), 100);
  tracker.observe(incomplete("a"), 100);
  const overdue = tracker.observe(incomplete("b"), 60_100);
  assert.equal(overdue.state, "overdue");
  assert.match(overdue.detail, /^not complete 60000 ms after it appeared; incomplete: no saved_model.pb/);
  assert.equal(overdue.recheckInMs, undefined);
  assert.equal(
    tracker.observe(complete("c"), 200_000).state,
    "overdue",
    "never loaded, even if it completes later",
  );
});

test("a complete tree still changing at the deadline is overdue too", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 2000, deadlineMs: 5000 }), 0);
  for (let now = 0; now < 5000; now += 1000)
    assert.equal(tracker.observe(complete(`d${now}`), now).state, "pending");
  assert.equal(tracker.observe(complete("last"), 5000).state, "overdue");
});

test("complete is final", () => {
  const tracker = new AdmissionTracker(admissionRules({ quietWindowMs: 0 }), 0);
  assert.equal(tracker.observe(complete("a"), 0).state, "complete");
  assert.equal(tracker.observe(incomplete("b"), 1).state, "complete");
});

test("marker mode: the marker replaces the quiet window, but the tree must still be complete", () => {
  const rules = admissionRules({ markerFile: "_SUCCESS", deadlineMs: 60_000 });
  const tracker = new AdmissionTracker(rules, 0);
  const waiting = tracker.observe(complete("a", false), 0);
  assert.equal(waiting.state, "pending");
  assert.equal(waiting.detail, "waiting for the marker file _SUCCESS");
  assert.equal(waiting.recheckInMs, 60_000);
  assert.equal(tracker.observe({ ...incomplete("b"), markerPresent: true }, 10).state, "pending");
  assert.equal(tracker.observe(complete("c", true), 20).state, "complete", "no window after the marker");
});
