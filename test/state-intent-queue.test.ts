import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { LocalIntentQueue } from "../src/state/intent-queue.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

let tick = 0;
const clock = () => new Date(Date.UTC(2026, 10, 21, 1, 0, tick++));

async function open(dir?: string): Promise<LocalState> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), "tfs-state-intents-")));
  if (!dir) dirs.push(root);
  return openLocalState(root, { now: clock });
}

test("put then pending: oldest first, per model or across all models", async () => {
  const state = await open();
  const a = await state.intents.put({
    model: "m",
    kind: "rollback",
    args: { to: "7", delete: false },
    by: "cli:alice",
  });
  const b = await state.intents.put({ model: "n/x", kind: "pin", args: { version: "3" }, by: "cli:bob" });
  const c = await state.intents.put({ model: "m", kind: "retry", args: { version: "9" }, by: "cli:alice" });
  assert.match(a.id, /^[0-9a-f]{16}$/);
  assert.ok(a.at < b.at && b.at < c.at);
  assert.deepEqual(await state.intents.pending("m"), [a, c]);
  assert.deepEqual(await state.intents.pending("n/x"), [b]);
  assert.deepEqual(await state.intents.pending(), [a, b, c]);
  assert.deepEqual(await state.intents.pending("nobody"), []);
  const fromAnotherProcess = await open(state.paths.root);
  assert.deepEqual(await fromAnotherProcess.intents.pending(), [a, b, c]);
});

test("markConsumed moves an intent out of pending, keeps its outcome, and is idempotent", async () => {
  const state = await open();
  const a = await state.intents.put({ model: "m", kind: "promote", args: { version: "8" }, by: "cli:ops" });
  const consumed = await state.intents.markConsumed("m", a.id, "daemon", { ok: true, promoted: "8" });
  assert.deepEqual(consumed, {
    ...a,
    consumedAt: consumed.consumedAt,
    consumedBy: "daemon",
    outcome: { ok: true, promoted: "8" },
  });
  assert.deepEqual(await state.intents.pending("m"), []);
  assert.deepEqual(await state.intents.markConsumed("m", a.id, "cli:ops", { ok: false }), consumed);
  await assert.rejects(state.intents.markConsumed("m", "nosuchid", "daemon", null), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.match(error.message, /no intent nosuchid for model m/);
    return true;
  });
});

test("a crash between writing the consumed copy and removing the pending file: the consumed copy wins", async () => {
  const state = await open();
  const a = await state.intents.put({ model: "m", kind: "unpin", args: null, by: "cli:ops" });
  const [pendingName] = await readdir(state.paths.intentsDir("m"));
  await state.intents.markConsumed("m", a.id, "daemon", "done");
  await copyFile(
    join(state.paths.consumedIntentsDir("m"), pendingName!),
    join(state.paths.intentsDir("m"), pendingName!),
  );
  assert.deepEqual(await state.intents.pending("m"), []);
});

test("only the newest consumed intents are kept", async () => {
  const state = await open();
  const queue = new LocalIntentQueue(state.paths, state.locks, { now: clock, keepConsumed: 2 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const intent = await queue.put({ model: "m", kind: "retry", args: { i }, by: "cli:ops" });
    await queue.markConsumed("m", intent.id, "daemon", null);
    ids.push(intent.id);
  }
  const kept = await readdir(state.paths.consumedIntentsDir("m"));
  assert.deepEqual(
    kept.map((name) => name.replace(/^.*-([^-]+)\.json$/, "$1")),
    ids.slice(2),
  );
});

test("bad intents are refused", async () => {
  const state = await open();
  await assert.rejects(
    state.intents.put({ model: "m", kind: "x", args: null, by: "root" as never }),
    /"by" must be/,
  );
  await assert.rejects(
    state.intents.put({ model: "", kind: "x", args: null, by: "daemon" }),
    /"model" must be a non-empty string/,
  );
  await assert.rejects(state.intents.put({ model: "m", kind: "", args: null, by: "daemon" }), /"kind"/);
  await assert.rejects(
    state.intents.put({ model: "m", kind: "x", args: null, by: "daemon", id: "../x" }),
    /id must match/,
  );
  await assert.rejects(
    state.intents.put({ model: "m", kind: "x", args: { n: Infinity }, by: "daemon" }),
    /not plain JSON/,
  );
  const a = await state.intents.put({ model: "m", kind: "x", args: null, by: "daemon", id: "fixed" });
  await assert.rejects(
    state.intents.put({ model: "m", kind: "x", args: null, by: "daemon", id: a.id }),
    /already exists/,
  );
});

test("a damaged intent file is a clear error naming it", async () => {
  const state = await open();
  await state.intents.put({ model: "m", kind: "x", args: null, by: "daemon" });
  const [name] = await readdir(state.paths.intentsDir("m"));
  const path = join(state.paths.intentsDir("m"), name!);
  await writeFile(path, "{");
  await assert.rejects(state.intents.pending("m"), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, path);
    assert.match(error.hint ?? "", /remove a damaged one/);
    return true;
  });
});
