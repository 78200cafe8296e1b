// The benchmarks' quick mode, so their code cannot rot: every bench runs small, and must finish and print its table.
// Numbers are not asserted here (speed belongs in `npm run bench`, not in tests).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "./helpers/emulator-harness.js";

test("npm run bench:quick: every benchmark runs in its small form and prints its table", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "bench", "run.ts"), "--quick"], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 0, out);
  for (const heading of [
    "inspect benchmark",
    "models.config with 1000 models",
    "rename → stable",
    "Detection latency",
    "Rollout throughput",
    "Scale: 30 models",
  ])
    assert.ok(out.includes(heading), `missing "${heading}" in:\n${out}`);
  assert.doesNotMatch(out, /failed: /);
});
