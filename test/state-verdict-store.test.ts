import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RolloutError } from "../src/errors.js";
import { openLocalState, type LocalState } from "../src/state/local-store.js";
import type { VerdictRecord } from "../src/state/store.js";
import { isCanonicalVersion, LocalVerdictStore } from "../src/state/verdict-store.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function open(dir?: string): Promise<LocalState> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), "tfs-state-verdicts-")));
  if (!dir) dirs.push(root);
  return openLocalState(root);
}

function record(version: string, overrides: Partial<VerdictRecord> = {}): VerdictRecord {
  return {
    model: "m",
    version,
    verdict: "promoted",
    reason: "gate passed",
    at: "2026-11-21T00:00:00.000Z",
    by: "daemon",
    ...overrides,
  };
}

test("put, get and list round trip, by ascending version number", async () => {
  const state = await open();
  const rejected = record("10", {
    verdict: "rejected",
    reason: "output y is NaN",
    by: "auto-rollback",
    gate: { requests: [{ ok: false, outputs: { y: { dtype: "DT_FLOAT", nan: 1 } } }], ms: 4.5 },
  });
  await state.verdicts.put(rejected);
  await state.verdicts.put(record("9"));
  await state.verdicts.put(record("-3", { verdict: "skipped", by: "cli:bob" }));
  assert.deepEqual(await state.verdicts.get("m", "10"), rejected);
  assert.equal(await state.verdicts.get("m", "11"), undefined);
  assert.equal(await state.verdicts.get("other", "10"), undefined);
  assert.deepEqual(
    (await state.verdicts.list("m")).map((r) => r.version),
    ["-3", "9", "10"],
  );
  // Another process sees the same.
  const again = await open(state.paths.root);
  assert.deepEqual(await again.verdicts.get("m", "10"), rejected);
});

test("put replaces, remove forgets", async () => {
  const state = await open();
  await state.verdicts.put(record("5", { verdict: "candidate" }));
  await state.verdicts.put(record("5", { verdict: "rejected", reason: "timeout" }));
  assert.equal((await state.verdicts.get("m", "5"))?.verdict, "rejected");
  assert.equal(await state.verdicts.remove("m", "5"), true);
  assert.equal(await state.verdicts.remove("m", "5"), false);
  assert.deepEqual(await state.verdicts.list("m"), []);
});

test("concurrent puts from separate store instances lose nothing", async () => {
  const state = await open();
  const stores = [0, 1, 2].map(() => new LocalVerdictStore(state.paths, state.locks));
  const other = await open(state.paths.root);
  await Promise.all([
    ...stores.map((store, i) => store.put(record(String(i)))),
    ...[10, 11, 12].map((v) => other.verdicts.put(record(String(v)))),
  ]);
  assert.deepEqual(
    (await state.verdicts.list("m")).map((r) => r.version),
    ["0", "1", "2", "10", "11", "12"],
  );
});

test("bad records and versions are refused", async () => {
  const state = await open();
  await assert.rejects(state.verdicts.put(record("007")), /"007" is not a version number/);
  await assert.rejects(state.verdicts.get("m", "v7"), /not a version number/);
  await assert.rejects(state.verdicts.put(record("9223372036854775808")), /not a version number/);
  await assert.rejects(
    state.verdicts.put(record("1", { verdict: "great" as never })),
    /"verdict" must be one of/,
  );
  await assert.rejects(state.verdicts.put(record("1", { by: "me" as never })), /"by" must be/);
  await assert.rejects(
    state.verdicts.put(record("1", { gate: { x: undefined } as never })),
    /not plain JSON/,
  );
  assert.deepEqual(await state.verdicts.list("m"), []);
});

test("canonical version numbers", () => {
  for (const v of ["0", "7", "-1", "9223372036854775807", "-9223372036854775808"])
    assert.ok(isCanonicalVersion(v), v);
  for (const v of ["", "-0", "07", "+7", " 7", "1.0", "9223372036854775808", "x"])
    assert.ok(!isCanonicalVersion(v), v);
});

test("the file is readable JSON, and a damaged one is a clear error naming it", async () => {
  const state = await open();
  await state.verdicts.put(record("3"));
  const path = state.paths.verdicts("m");
  assert.equal(JSON.parse(await readFile(path, "utf8")).verdicts["3"].reason, "gate passed");
  await writeFile(path, "{ not json");
  await assert.rejects(state.verdicts.list("m"), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, path);
    assert.match(error.message, /verdict file is damaged/);
    assert.match(error.hint ?? "", /move it aside/);
    return true;
  });
  await writeFile(path, JSON.stringify({ verdicts: { "4": record("3") } }));
  await assert.rejects(state.verdicts.list("m"), /version 4 holds the record of 3/);
  await writeFile(path, JSON.stringify({ verdicts: { "4": { ...record("4"), verdict: "meh" } } }));
  await assert.rejects(state.verdicts.list("m"), /unknown verdict "meh"/);
});

test("model names with separators stay inside the state dir", async () => {
  const state = await open();
  await state.verdicts.put(record("1", { model: "../../escape" }));
  assert.deepEqual(await readdir(state.paths.modelsDir), ["%2E.%2F..%2Fescape"]);
  assert.deepEqual(
    await readdir(join(state.paths.root, "..")).then((names) => names.includes("escape")),
    false,
  );
  assert.equal((await state.verdicts.get("../../escape", "1"))?.model, "../../escape");
});
