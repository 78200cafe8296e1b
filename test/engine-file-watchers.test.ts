import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { watchFile, watchIntents } from "../src/engine/file-watchers.js";
import { escapeModelName } from "../src/state/paths.js";
import { openLocalState } from "../src/state/local-store.js";
import { tempDir, waitFor } from "./helpers/emulator-harness.js";

for (const usePolling of [false, true]) {
  const how = usePolling ? "polling" : "inotify";

  test(`watchFile (${how}): in-place writes and atomic replacements are seen, neighbours are not`, async (t) => {
    const tmp = tempDir("tfs-watch-file-");
    t.after(() => tmp.cleanup());
    const file = join(tmp.dir, "models.config");
    writeFileSync(file, "a");
    let changes = 0;
    const watcher = await watchFile(file, () => changes++, { usePolling, pollIntervalMs: 50 });
    t.after(() => watcher.close());
    writeFileSync(join(tmp.dir, "other.config"), "x");
    writeFileSync(`${file}.tmp-1`, "b");
    renameSync(`${file}.tmp-1`, file);
    await waitFor("atomic replacement seen", () => changes >= 1);
    const seen = changes;
    appendFileSync(file, "c");
    await waitFor("in-place write seen", () => changes > seen);
  });

  test(`watchIntents (${how}): a put intent enqueues its model; journal writes and consumed copies do not`, async (t) => {
    const tmp = tempDir("tfs-watch-intents-");
    t.after(() => tmp.cleanup());
    const state = await openLocalState(tmp.dir);
    const models: string[] = [];
    const watcher = await watchIntents(
      state.paths.modelsDir,
      (component) => (component === escapeModelName("fraud/v2") ? "fraud/v2" : undefined),
      (model) => models.push(model),
      { usePolling, pollIntervalMs: 50 },
    );
    t.after(() => watcher.close());
    // Noise first: a journal append and a model the daemon does not manage.
    await state.journal.append({
      id: "j1",
      model: "fraud/v2",
      step: { kind: "x" },
      phase: "begin",
      by: "daemon",
    });
    const other = join(state.paths.intentsDir("other"));
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "1-a.json"), "{}");
    const intent = await state.intents.put({ model: "fraud/v2", kind: "unpin", args: {}, by: "cli:bob" });
    await waitFor("intent seen", () => models.length > 0);
    assert.deepEqual([...new Set(models)], ["fraud/v2"]);
    const before = models.length;
    await state.intents.markConsumed("fraud/v2", intent.id, "daemon", { ok: true });
    await state.journal.append({
      id: "j1",
      model: "fraud/v2",
      step: { kind: "x" },
      phase: "done",
      by: "daemon",
    });
    // A later intent is still seen after consumption (the consumed/ folder does not confuse the watcher).
    await state.intents.put({ model: "fraud/v2", kind: "unpin", args: {}, by: "cli:bob" });
    await waitFor("second intent seen", () => models.length > before);
    assert.deepEqual([...new Set(models)], ["fraud/v2"]);
  });
}
