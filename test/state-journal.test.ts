import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { RolloutError } from "../src/errors.js";
import { serializeJournalEntry } from "../src/state/journal-file.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";
import type { StateLogger } from "../src/state/state-logger.js";
import type { JournalEntry } from "../src/state/store.js";
import { REPO } from "./helpers/emulator-harness.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tfs-state-journal-"));
  dirs.push(dir);
  return dir;
}

function recordingLog(): StateLogger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn: (_fields, message) => warnings.push(message),
    info: (_fields, message) => infos.push(message),
  };
}

let tick = 0;
const clock = () => new Date(Date.UTC(2026, 10, 21, 0, 0, 0, tick++));

async function open(
  options: { maxBytes?: number; log?: StateLogger; dir?: string; now?: () => Date } = {},
): Promise<LocalState> {
  return openLocalState(options.dir ?? (await tempDir()), {
    now: options.now ?? clock,
    log: options.log,
    journalMaxBytes: options.maxBytes,
  });
}

test("append then read back: unfinished and history (newest first, bounded)", async () => {
  const state = await open({ now: () => new Date("2026-11-21T12:00:00Z") });
  const begin = await state.journal.append({
    id: "s1",
    model: "m",
    step: { kind: "load", version: "7" },
    phase: "begin",
    by: "daemon",
  });
  assert.equal(begin.at, "2026-11-21T12:00:00.000Z");
  await state.journal.append({
    id: "s2",
    model: "m",
    step: { kind: "gate" },
    phase: "begin",
    by: "cli:alice",
  });
  const done = await state.journal.append({
    id: "s1",
    model: "m",
    step: { kind: "load", version: "7" },
    phase: "done",
    by: "daemon",
    detail: { ms: 31 },
  });
  await state.journal.append({ id: "o1", model: "other", step: {}, phase: "begin", by: "auto-rollback" });

  assert.deepEqual(
    (await state.journal.unfinished("m")).map((e) => e.id),
    ["s2"],
  );
  const history = await state.journal.history("m");
  assert.deepEqual(
    history.map((e) => [e.id, e.phase]),
    [
      ["s1", "done"],
      ["s2", "begin"],
      ["s1", "begin"],
    ],
  );
  assert.deepEqual(history[0], done);
  assert.deepEqual(await state.journal.history("m", { limit: 1 }), [done]);
  assert.deepEqual(await state.journal.history("never-seen"), []);
  assert.deepEqual(await state.journal.unfinished("never-seen"), []);
});

test("entries are stored as JSON lines, fsynced file in the model's directory, mode 0600", async () => {
  const state = await open();
  await state.journal.append({ id: "s1", model: "a/b", step: null, phase: "begin", by: "daemon" });
  const path = state.paths.journal("a/b");
  assert.equal(path, join(state.paths.root, "models", "a%2Fb", "journal.jsonl"));
  const text = await readFile(path, "utf8");
  assert.equal(text.split("\n").length, 2);
  assert.equal(JSON.parse(text).model, "a/b");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test("bad entries are refused before anything is written", async () => {
  const state = await open();
  const base = { id: "s", model: "m", step: {}, phase: "begin", by: "daemon" } as const;
  await assert.rejects(
    state.journal.append({ ...base, by: "someone" as never }),
    /"by" must be daemon, auto-rollback or cli:<user>/,
  );
  await assert.rejects(
    state.journal.append({ ...base, phase: "started" as never }),
    /"phase" must be one of begin, done, failed/,
  );
  await assert.rejects(state.journal.append({ ...base, id: "" }), /"id" must be a non-empty string/);
  await assert.rejects(
    state.journal.append({ ...base, step: { n: Number.NaN } }),
    (error: unknown) => error instanceof RolloutError && /not plain JSON/.test(error.message),
  );
  await assert.rejects(
    state.journal.append({ ...base, step: { when: new Date() } as never }),
    /not plain JSON/,
  );
  assert.deepEqual(await state.journal.history("m"), []);
});

test("a torn last line is reported, never fatal, and the next append starts a fresh line", async () => {
  const log = recordingLog();
  const state = await open({ log });
  await state.journal.append({ id: "s1", model: "m", step: {}, phase: "begin", by: "daemon" });
  const path = state.paths.journal("m");
  await appendFile(path, '{"id":"s2","model":"m","st');
  assert.deepEqual(
    (await state.journal.unfinished("m")).map((e) => e.id),
    ["s1"],
  );
  assert.equal(log.warnings.length, 1);
  assert.match(log.warnings[0]!, /journal line 2 skipped: not valid JSON \(torn last line\)/);
  await state.journal.unfinished("m");
  assert.equal(log.warnings.length, 1, "the same damage is reported once");

  await state.journal.append({ id: "s1", model: "m", step: {}, phase: "done", by: "daemon" });
  assert.match(log.warnings[1]!, /did not end with a newline/);
  assert.deepEqual(await state.journal.unfinished("m"), []);
  assert.deepEqual(
    (await state.journal.history("m")).map((e) => [e.id, e.phase]),
    [
      ["s1", "done"],
      ["s1", "begin"],
    ],
  );
});

test("the journal is compacted past maxBytes, keeping unfinished steps and the newest history", async () => {
  const log = recordingLog();
  const state = await open({ maxBytes: 4096, log });
  await state.journal.append({
    id: "first",
    model: "m",
    step: { kind: "load" },
    phase: "begin",
    by: "daemon",
  });
  for (let i = 0; i < 200; i++) {
    await state.journal.append({ id: `s${i}`, model: "m", step: { i }, phase: "begin", by: "daemon" });
    await state.journal.append({ id: `s${i}`, model: "m", step: { i }, phase: "done", by: "daemon" });
  }
  await state.journal.append({ id: "last", model: "m", step: {}, phase: "begin", by: "daemon" });
  assert.ok((await stat(state.paths.journal("m"))).size <= 4096);
  assert.ok(log.infos.some((message) => /journal compacted from \d+ to \d+ entries/.test(message)));
  assert.deepEqual(
    (await state.journal.unfinished("m")).map((e) => e.id),
    ["first", "last"],
  );
  const history = await state.journal.history("m", { limit: 3 });
  assert.deepEqual(
    history.map((e) => [e.id, e.phase]),
    [
      ["last", "begin"],
      ["s199", "done"],
      ["s199", "begin"],
    ],
  );
});

test("two processes appending to one model's journal with compaction lose nothing unfinished", async () => {
  const dir = await tempDir();
  await open({ dir });
  const child = (tag: string) =>
    spawn(
      process.execPath,
      ["--import", "tsx", join(REPO, "test/helpers/state-child.ts"), "journal", dir, "m", "40", tag],
      {
        cwd: REPO,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  const children = [child("p"), child("q")];
  const codes = await Promise.all(children.map(async (c) => (await once(c, "exit"))[0]));
  assert.deepEqual(codes, [0, 0]);
  const state = await open({ dir });
  const unfinished = (await state.journal.unfinished("m")).map((e) => e.id).sort();
  const expected = ["p", "q"].flatMap((tag) => Array.from({ length: 40 }, (_, i) => `${tag}-${i}`)).sort();
  assert.deepEqual(unfinished, expected);
  assert.ok(
    (await readFile(state.paths.journal("m"), "utf8")).length > 2048,
    "the children's 2 KiB limit was passed",
  );
});

type Op = { kind: "begin" } | { kind: "finish"; pick: number; phase: "done" | "failed" };

test("property: appends with a crash at any byte leave a readable journal whose unfinished set is exact", async () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: "begin" }),
    fc.record({
      kind: fc.constant("finish" as const),
      pick: fc.nat(),
      phase: fc.constantFrom("done" as const, "failed" as const),
    }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { minLength: 1, maxLength: 25 }),
      fc.nat(),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(600, 1_000_000),
      async (ops, crashSeed, tornFraction, maxBytes) => {
        const dir = await mkdtemp(join(tmpdir(), "tfs-state-prop-"));
        try {
          let state = await open({ dir, maxBytes });
          await mkdir(state.paths.modelDir("m"), { recursive: true });
          const open_: string[] = [];
          let next = 0;
          const crashAt = crashSeed % ops.length;
          const entryFor = (o: Op): JournalEntry | undefined => {
            if (o.kind === "begin")
              return {
                id: `s${next}`,
                model: "m",
                step: { n: next },
                phase: "begin",
                at: clock().toISOString(),
                by: "daemon",
              };
            if (open_.length === 0) return undefined;
            const id = open_[o.pick % open_.length]!;
            return { id, model: "m", step: null, phase: o.phase, at: clock().toISOString(), by: "daemon" };
          };
          const applied = (entry: JournalEntry) => {
            if (entry.phase === "begin") {
              open_.push(entry.id);
              next++;
            } else open_.splice(open_.indexOf(entry.id), 1);
          };
          for (const [index, o] of ops.entries()) {
            const entry = entryFor(o);
            if (entry === undefined) continue;
            if (index === crashAt) {
              // The process dies part-way through writing this entry's line.
              const line = serializeJournalEntry(entry);
              const written = Math.floor(tornFraction * line.length);
              await appendFile(state.paths.journal("m"), line.slice(0, written));
              if (written >= line.length - 1)
                applied(entry); // all but the newline reached the disk
              else if (entry.phase === "begin") next++; // never reuse the id of an entry that may be half there
              assert.deepEqual(
                (await state.journal.unfinished("m")).map((e) => e.id),
                open_,
              );
              state = await open({ dir, maxBytes }); // the restarted process
              continue;
            }
            await state.journal.append(entry);
            applied(entry);
          }
          assert.deepEqual(
            (await state.journal.unfinished("m")).map((e) => e.id),
            open_,
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 60 },
  );
});

test("a journal file that cannot be read is a clear error naming it", async () => {
  const state = await open();
  await writeFile(join(state.paths.modelsDir, "m"), "not a directory");
  await assert.rejects(state.journal.history("m"), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, state.paths.journal("m"));
    assert.match(error.hint ?? "", /--state-dir/);
    return true;
  });
});
