import assert from "node:assert/strict";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileAtomic } from "../src/modelconfig/atomic-write.js";
import {
  CHANGED_UNDERNEATH_ATTEMPTS,
  ChangedUnderneathError,
  currentStampSync,
  retryWhenChangedUnderneath,
  sameStamp,
} from "../src/modelconfig/file-stamp.js";
import { loadModelServerConfig } from "../src/modelconfig/load.js";
import { RolloutError } from "../src/errors.js";
import { tempDir } from "./helpers/version-dir.js";

const CONFIG = "model_config_list {}\n";

function setup(t: { after(fn: () => void): void }) {
  const dir = tempDir(t, "file-stamp-");
  const path = join(dir, "models.config");
  writeFileSync(path, CONFIG);
  /** An editor's save: write a temp file, rename it over the config (no lock). */
  const operatorSaves = (text: string) => {
    writeFileSync(`${path}.op`, text);
    renameSync(`${path}.op`, path);
  };
  return { dir, path, operatorSaves };
}

test("the stamp of a load is the file's identity; a rename or an in-place rewrite changes it", async (t) => {
  const { path, operatorSaves } = setup(t);
  const loaded = await loadModelServerConfig(path);
  assert.ok(sameStamp(loaded.stamp, currentStampSync(path)));
  operatorSaves(CONFIG);
  assert.ok(!sameStamp(loaded.stamp, currentStampSync(path)), "same bytes, but a new inode");
  const renamed = currentStampSync(path);
  writeFileSync(path, `${CONFIG}# longer\n`);
  assert.ok(!sameStamp(renamed, currentStampSync(path)), "same inode, new size");
  assert.equal(currentStampSync(join(path, "..", "absent")), undefined);
  assert.ok(sameStamp(undefined, undefined));
});

test("a file replaced after it was read is not overwritten: ChangedUnderneathError, temp file removed", async (t) => {
  const { dir, path, operatorSaves } = setup(t);
  const { stamp } = await loadModelServerConfig(path);
  const write = writeFileAtomic(path, "# ours\n", {
    unchangedSince: stamp,
    onStep: (step) => {
      if (step === "temp-synced") operatorSaves(`${CONFIG}# operator edit\n`);
    },
  });
  await assert.rejects(write, (error: unknown) => {
    assert.ok(error instanceof ChangedUnderneathError);
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, path);
    assert.match(error.message, /changed after it was read/);
    assert.match(error.hint ?? "", /config lock/);
    return true;
  });
  assert.equal(readFileSync(path, "utf8"), `${CONFIG}# operator edit\n`);
  assert.deepEqual(readdirSync(dir), ["models.config"]);
});

test("an unchanged file is replaced as usual", async (t) => {
  const { path } = setup(t);
  const { stamp } = await loadModelServerConfig(path);
  await writeFileAtomic(path, "# ours\n", { unchangedSince: stamp });
  assert.equal(readFileSync(path, "utf8"), "# ours\n");
});

test("retryWhenChangedUnderneath starts over on ChangedUnderneathError only, a bounded number of times", async () => {
  let calls = 0;
  assert.equal(
    await retryWhenChangedUnderneath(async () => {
      if (++calls < 3) throw new ChangedUnderneathError("/x");
      return "done";
    }),
    "done",
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    retryWhenChangedUnderneath(async () => {
      calls++;
      throw new ChangedUnderneathError("/x");
    }),
    ChangedUnderneathError,
  );
  assert.equal(calls, CHANGED_UNDERNEATH_ATTEMPTS);
  calls = 0;
  await assert.rejects(
    retryWhenChangedUnderneath(async () => {
      calls++;
      throw new Error("disk on fire");
    }),
    /disk on fire/,
  );
  assert.equal(calls, 1, "other errors are not retried");
});
