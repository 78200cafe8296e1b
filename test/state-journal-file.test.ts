import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  compactEntries,
  parseJournal,
  serializeJournalEntry,
  unfinishedEntries,
} from "../src/state/journal-file.js";
import type { JournalEntry, JournalPhase } from "../src/state/store.js";

function entry(id: string, phase: JournalPhase, step: JournalEntry["step"] = { kind: "load" }): JournalEntry {
  return { id, model: "m", step, phase, at: "2026-11-21T00:00:00.000Z", by: "daemon" };
}

test("serialized entries parse back identically, one per line", () => {
  const entries = [
    entry("a", "begin", { kind: "promote", version: "7", nested: [1, null, "x\ny"] }),
    { ...entry("a", "done"), detail: { ms: 12 } },
  ];
  const text = entries.map(serializeJournalEntry).join("");
  assert.equal(text.split("\n").length, 3);
  assert.deepEqual(parseJournal(text), { entries, problems: [] });
});

test("a torn last line is skipped and reported with its line number", () => {
  const whole = serializeJournalEntry(entry("a", "begin"));
  const torn = serializeJournalEntry(entry("b", "begin")).slice(0, 25);
  const { entries, problems } = parseJournal(whole + torn);
  assert.deepEqual(entries, [entry("a", "begin")]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 2);
  assert.match(problems[0]!.message, /not valid JSON \(torn last line\)/);
  assert.equal(problems[0]!.excerpt, torn);
});

test("a whole last entry missing only its newline is accepted", () => {
  const text =
    serializeJournalEntry(entry("a", "begin")) + serializeJournalEntry(entry("a", "done")).trimEnd();
  assert.deepEqual(parseJournal(text).entries, [entry("a", "begin"), entry("a", "done")]);
});

test("damaged lines in the middle and non-entries are skipped, the rest is kept", () => {
  const lines = [
    serializeJournalEntry(entry("a", "begin")),
    "{garbage\n",
    `${JSON.stringify({ ...entry("b", "begin"), phase: "started" })}\n`,
    `${JSON.stringify({ id: "c" })}\n`,
    "[1,2]\n",
    "\n",
    serializeJournalEntry(entry("a", "failed")),
  ];
  const { entries, problems } = parseJournal(lines.join(""));
  assert.deepEqual(entries, [entry("a", "begin"), entry("a", "failed")]);
  assert.deepEqual(
    problems.map((p) => [p.line, p.message]),
    [
      [2, "not valid JSON"],
      [3, 'field "phase" must be one of begin, done, failed'],
      [4, 'field "model" is missing or not a string'],
      [5, "not a JSON object"],
    ],
  );
});

test("unfinished: the begins whose step has no later done or failed, in order", () => {
  const entries = [
    entry("a", "begin"),
    entry("b", "begin"),
    entry("c", "begin"),
    entry("b", "done"),
    entry("d", "begin"),
    entry("c", "failed"),
    entry("e", "begin"),
  ];
  assert.deepEqual(
    unfinishedEntries(entries).map((e) => e.id),
    ["a", "d", "e"],
  );
  // A step begun again after it finished (a retry with the same id) is unfinished again, at its new place.
  assert.deepEqual(
    unfinishedEntries([...entries, entry("b", "begin")]).map((e) => e.id),
    ["a", "d", "e", "b"],
  );
});

test("compaction keeps the newest entries plus every unfinished begin", () => {
  const entries = [
    entry("old-open", "begin"),
    entry("x", "begin"),
    entry("x", "done"),
    entry("y", "begin"),
    entry("y", "failed"),
    entry("z", "begin"),
  ];
  assert.deepEqual(compactEntries(entries, 2), [
    entry("old-open", "begin"),
    entry("y", "failed"),
    entry("z", "begin"),
  ]);
  assert.deepEqual(compactEntries(entries, 0), [entry("old-open", "begin"), entry("z", "begin")]);
  assert.deepEqual(compactEntries(entries, 100), entries);
});

test("property: compaction never changes the unfinished set and keeps the newest `keep` entries", () => {
  const op = fc.record({
    id: fc.constantFrom("a", "b", "c", "d", "e", "f"),
    phase: fc.constantFrom<JournalPhase>("begin", "done", "failed"),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), fc.nat(45), (ops, keep) => {
      const entries = ops.map((o, i) => entry(o.id, o.phase, { i }));
      const kept = compactEntries(entries, keep);
      assert.deepEqual(unfinishedEntries(kept), unfinishedEntries(entries));
      const tail = entries.slice(Math.max(0, entries.length - keep));
      assert.deepEqual(kept.slice(kept.length - tail.length), tail);
      assert.ok(kept.length <= tail.length + unfinishedEntries(entries).length);
    }),
  );
});
