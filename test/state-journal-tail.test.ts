import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { parseJournal, serializeJournalEntry } from "../src/state/journal-file.js";
import { JournalTail } from "../src/state/journal-tail.js";
import type { JournalEntry } from "../src/state/store.js";

function line(id: string): string {
  const entry: JournalEntry = {
    id,
    model: "m",
    step: { kind: "admit", candidate: id },
    phase: "done",
    at: "2026-11-22T00:00:00.000Z",
    by: "daemon",
  };
  return serializeJournalEntry(entry);
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-tail-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const fromDisk = (path: string) => parseJournal(readFileSync(path, "utf8"));

test(
  "entries appended by anyone are read back, the cached ones and the new ones, as a whole read would",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    writeFileSync(path, line("a") + line("b"));
    const tail = new JournalTail();
    assert.deepEqual(
      (await tail.read(path)).entries.map((e) => e.id),
      ["a", "b"],
    );
    appendFileSync(path, line("c"));
    appendFileSync(path, "not json\n");
    appendFileSync(path, line("d"));
    const read = await tail.read(path);
    assert.deepEqual(
      read.entries.map((e) => e.id),
      ["a", "b", "c", "d"],
    );
    assert.deepEqual(read, fromDisk(path));
    assert.equal(read.problems[0]!.line, 4, "numbered in the whole file, not in the appended bytes");
  }),
);

test(
  "a file replaced by a rename (compaction), shrunk, or rewritten in place is read again whole",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    const tail = new JournalTail();
    writeFileSync(path, line("a") + line("b") + line("c"));
    await tail.read(path);
    writeFileSync(join(dir, "next"), line("x") + line("y") + line("z") + line("w"));
    renameSync(join(dir, "next"), path);
    assert.deepEqual(await tail.read(path), fromDisk(path));
    writeFileSync(path, line("q"));
    assert.deepEqual(await tail.read(path), fromDisk(path));
    // Same size, other bytes: the times differ (set explicitly: a coarse clock could give the same tick).
    writeFileSync(path, line("r"));
    utimesSync(path, new Date(Date.now() + 5000), new Date(Date.now() + 5000));
    assert.deepEqual(
      (await tail.read(path)).entries.map((e) => e.id),
      ["r"],
    );
  }),
);

test(
  "a torn last line in the cached text is read again whole once the line is completed",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    const whole = line("b");
    writeFileSync(path, line("a") + whole.slice(0, 20));
    const tail = new JournalTail();
    const torn = await tail.read(path);
    assert.equal(torn.entries.length, 1);
    assert.match(torn.problems[0]!.message, /torn last line/);
    appendFileSync(path, whole.slice(20) + line("c"));
    const read = await tail.read(path);
    assert.deepEqual(
      read.entries.map((e) => e.id),
      ["a", "b", "c"],
    );
    assert.deepEqual(read.problems, []);
  }),
);

test(
  "what a read returns is the caller's: changing it does not change the next read",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    writeFileSync(path, line("a") + line("b"));
    const tail = new JournalTail();
    (await tail.read(path)).entries.reverse();
    assert.deepEqual(
      (await tail.read(path)).entries.map((e) => e.id),
      ["a", "b"],
    );
  }),
);

test(
  "a missing file is ENOENT, as from readFile, and is forgotten",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    const tail = new JournalTail();
    await assert.rejects(tail.read(path), { code: "ENOENT" });
    writeFileSync(path, line("a"));
    await tail.read(path);
    rmSync(path);
    await assert.rejects(tail.read(path), { code: "ENOENT" });
    writeFileSync(path, line("b"));
    assert.deepEqual(
      (await tail.read(path)).entries.map((e) => e.id),
      ["b"],
    );
  }),
);

test(
  "property: after any sequence of appends (whole, torn, garbage), replacements and truncations, a read equals a whole read",
  withDir(async (dir) => {
    const path = join(dir, "journal.jsonl");
    const op = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant("torn" as const), cut: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ kind: fc.constant("garbage" as const), text: fc.string({ maxLength: 12 }) }),
      fc.record({ kind: fc.constant("replace" as const), n: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant("truncate" as const), cut: fc.integer({ min: 0, max: 200 }) }),
    );
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(op, fc.boolean()), { maxLength: 25 }), async (ops) => {
        writeFileSync(path, "");
        const tail = new JournalTail();
        let tick = Date.now();
        for (const [o, readNow] of ops) {
          if (o.kind === "append") for (let i = 0; i < o.n; i++) appendFileSync(path, line(`e${counter++}`));
          if (o.kind === "torn") appendFileSync(path, line(`t${counter++}`).slice(0, o.cut));
          if (o.kind === "garbage") appendFileSync(path, `${o.text}\n`);
          if (o.kind === "replace") {
            writeFileSync(
              join(dir, "next"),
              Array.from({ length: o.n }, () => line(`r${counter++}`)).join(""),
            );
            renameSync(join(dir, "next"), path);
          }
          if (o.kind === "truncate") {
            const bytes = readFileSync(path);
            writeFileSync(path, bytes.subarray(0, Math.min(o.cut, bytes.length)));
          }
          // Every change moves the times on, as a real clock between two writes a read apart would.
          tick += 1000;
          utimesSync(path, new Date(tick), new Date(tick));
          if (readNow) assert.deepEqual(await tail.read(path), fromDisk(path));
        }
        assert.deepEqual(await tail.read(path), fromDisk(path));
      }),
      { numRuns: 60 },
    );
  }),
);

test(
  "what is kept is bounded: the least recently read journal is dropped first, and read again whole when asked",
  withDir(async (dir) => {
    const [a, b, c] = ["a", "b", "c"].map((name) => join(dir, `${name}.jsonl`)) as [string, string, string];
    for (const path of [a, b, c]) writeFileSync(path, line("x") + line("y"));
    const size = readFileSync(a).length;
    const tail = new JournalTail(2 * size);
    await tail.read(a);
    await tail.read(b);
    await tail.read(a); // a is now the most recently read
    await tail.read(c);
    assert.equal(tail.keptBytes, 2 * size, "b was dropped to make room for c");
    appendFileSync(b, line("z"));
    assert.deepEqual(await tail.read(b), fromDisk(b));
    assert.ok(tail.keptBytes <= 2 * size + line("z").length);
  }),
);
