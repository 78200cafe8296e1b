import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseModelServerConfigBytes } from "../src/modelconfig/load.js";
import { ReloadCoalescer } from "../src/engine/reload-coalescer.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { tempDir } from "./helpers/version-dir.js";

function setup(t: { after(fn: () => void): void }) {
  const path = join(tempDir(t, "engine-coalescer-"), "models.config");
  const text = 'model_config_list { config { name: "m" base_path: "/b" model_platform: "tensorflow" } }\n';
  writeFileSync(path, text);
  const sent: unknown[] = [];
  let release!: () => void;
  const first = new Promise<void>((resolve) => (release = resolve));
  const grpc = {
    reloadConfig: async (config: Record<string, unknown>) => {
      sent.push(config);
      if (sent.length === 1) await first;
      return {};
    },
  };
  const coalescer = new ReloadCoalescer(path, grpc, { withConfigLock: (fn) => fn() });
  coalescer.noteWritten({ text, message: parseModelServerConfigBytes(Buffer.from(text), path).message });
  return { path, sent, release, coalescer };
}

test("reloads asked for while one is in flight go out once, after it", async (t) => {
  const { sent, release, coalescer } = setup(t);
  const a = coalescer.reload();
  await waitFor("the first reload in flight", () => sent.length === 1);
  const b = coalescer.reload();
  const c = coalescer.reload();
  assert.equal(b, c, "b and c share one batch");
  release();
  await Promise.all([a, b, c]);
  assert.equal(coalescer.sent, 2);
  assert.deepEqual(sent[1], sent[0]);
});

test("a file changed by someone else since the daemon's write is not reloaded", async (t) => {
  const { path, sent, coalescer } = setup(t);
  writeFileSync(path, `# operator\n${readFileSync(path, "utf8")}`);
  await assert.rejects(coalescer.reload(), /changed after the daemon wrote it/);
  assert.equal(sent.length, 0);
});
