import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readHolder } from "../src/state/locks.js";
import { defaultStateDir, openLocalState, storedModels } from "../src/state/local-store.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test("the default state dir: systemd's STATE_DIRECTORY, else /var/lib/tfs-rollout", () => {
  assert.equal(
    defaultStateDir({ STATE_DIRECTORY: "/var/lib/tfs-rollout-a:/var/lib/other" }),
    "/var/lib/tfs-rollout-a",
  );
  assert.equal(defaultStateDir({ STATE_DIRECTORY: "" }), "/var/lib/tfs-rollout");
  assert.equal(defaultStateDir({}), "/var/lib/tfs-rollout");
});

test("openLocalState creates the directory and wires every part on it", async () => {
  const parent = await mkdtemp(join(tmpdir(), "tfs-state-local-"));
  dirs.push(parent);
  const root = join(parent, "state");
  const state = await openLocalState(root, {
    command: "tfs-rollout daemon",
    now: () => new Date("2026-11-21T00:00:00Z"),
  });
  assert.equal(state.paths.root, root);
  assert.equal((await stat(root)).mode & 0o777, 0o700);

  await state.locks.withModelLock("m", async () => {
    const holder = await readHolder(state.paths.lockFile("model.m"));
    assert.ok(holder && holder !== "unreadable");
    assert.equal(holder.command, "tfs-rollout daemon");
    assert.equal(holder.since, "2026-11-21T00:00:00.000Z");
    await state.locks.withConfigLock(async () => {
      await state.journal.append({
        id: "s",
        model: "m",
        step: { kind: "reload" },
        phase: "begin",
        by: "daemon",
      });
      await state.verdicts.put({
        model: "m",
        version: "2",
        verdict: "candidate",
        reason: "new",
        at: "2026-11-21T00:00:00Z",
        by: "daemon",
      });
      await state.intents.put({ model: "m", kind: "promote", args: null, by: "cli:ops" });
    });
  });
  assert.equal((await state.journal.unfinished("m"))[0]?.at, "2026-11-21T00:00:00.000Z");
  assert.equal((await state.verdicts.list("m")).length, 1);
  assert.equal((await state.intents.pending()).length, 1);
});

test("storedModels lists every model with state, long and odd names included", async () => {
  const root = await mkdtemp(join(tmpdir(), "tfs-state-local-"));
  dirs.push(root);
  const state = await openLocalState(root);
  assert.deepEqual(await storedModels(state.paths), []);
  const long = "l".repeat(250);
  await state.journal.append({ id: "s", model: "a/b", step: null, phase: "begin", by: "daemon" });
  await state.journal.append({ id: "s", model: long, step: null, phase: "begin", by: "daemon" });
  await state.verdicts.put({
    model: `${long}2`,
    version: "1",
    verdict: "promoted",
    reason: "",
    at: "t",
    by: "daemon",
  });
  await state.intents.put({ model: ".hidden", kind: "pin", args: null, by: "cli:ops" });
  assert.deepEqual(await storedModels(state.paths), [".hidden", "a/b", long, `${long}2`]);
});
