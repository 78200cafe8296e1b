import assert from "node:assert/strict";
import { test } from "node:test";
import { selectCandidate, type AdmissionKind, type CandidateInput } from "../src/admission/candidates.js";

function onDisk(spec: Record<string, AdmissionKind>): CandidateInput["versions"] {
  return Object.entries(spec).map(([version, admission]) => ({ version, admission }));
}

test("several new versions at once: only the newest is the candidate, the older admitted ones are skipped", () => {
  const selection = selectCandidate({
    versions: onDisk({ "3": "complete", "5": "complete", "4": "complete", "2": "unchecked" }),
    verdicts: { "2": "promoted" },
    stableVersion: "2",
  });
  assert.deepEqual(selection, {
    candidate: "5",
    inFlight: false,
    skip: ["3", "4"],
    notRetried: [],
    belowStable: ["2"],
    waiting: [],
  });
});

test("versions at or below stable are never candidates, even unverdicted and complete", () => {
  const selection = selectCandidate({
    versions: onDisk({ "7": "complete", "9": "complete", "10": "unchecked" }),
    verdicts: {},
    stableVersion: "10",
  });
  assert.equal(selection.candidate, undefined);
  assert.deepEqual(selection.belowStable, ["7", "9", "10"]);
  assert.deepEqual(selection.skip, []);
});

test("numbers compare as int64, not as strings", () => {
  const selection = selectCandidate({
    versions: onDisk({ "9": "complete", "10": "complete", "100": "complete" }),
    verdicts: {},
    stableVersion: "9",
  });
  assert.equal(selection.candidate, "100");
  assert.deepEqual(selection.skip, ["10"]);
});

test("a rejected number that reappears is not retried, unless an operator retry intent says so", () => {
  const input: CandidateInput = {
    versions: onDisk({ "4": "complete", "5": "complete" }),
    verdicts: { "5": "rejected" },
    stableVersion: "3",
  };
  const without = selectCandidate(input);
  assert.equal(without.candidate, "4", "the older unverdicted one is the newest eligible");
  assert.deepEqual(without.notRetried, ["5"]);
  const withRetry = selectCandidate({ ...input, retry: ["5"] });
  assert.equal(withRetry.candidate, "5");
  assert.deepEqual(withRetry.skip, ["4"]);
  assert.deepEqual(withRetry.notRetried, []);
});

test("skipped and incomplete verdicts hold too; promoted ones are never retried", () => {
  const selection = selectCandidate({
    versions: onDisk({ "4": "complete", "5": "complete", "6": "complete" }),
    verdicts: { "4": "skipped", "5": "incomplete", "6": "promoted" },
    retry: ["6"],
  });
  assert.equal(selection.candidate, undefined);
  assert.deepEqual(selection.notRetried, ["4", "5"]);
});

test("a rollout in flight stays the candidate and nothing is skipped meanwhile", () => {
  const selection = selectCandidate({
    versions: onDisk({ "5": "unchecked", "6": "complete", "7": "complete" }),
    verdicts: { "5": "candidate" },
    stableVersion: "4",
  });
  assert.equal(selection.candidate, "5");
  assert.equal(selection.inFlight, true);
  assert.deepEqual(selection.skip, []);
});

test("pending, overdue, duplicate and refused versions are never candidates; a newer pending does not block", () => {
  const selection = selectCandidate({
    versions: onDisk({ "2": "complete", "3": "overdue", "4": "duplicate", "5": "refused", "6": "pending" }),
    verdicts: {},
    stableVersion: "1",
  });
  assert.equal(selection.candidate, "2");
  assert.deepEqual(selection.waiting, ["6"]);
  assert.deepEqual(selection.skip, []);
});

test("no stable yet: every admitted version counts", () => {
  const selection = selectCandidate({ versions: onDisk({ "1": "complete", "2": "pending" }), verdicts: {} });
  assert.equal(selection.candidate, "1");
  assert.deepEqual(selection.waiting, ["2"]);
});
