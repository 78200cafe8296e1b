// The README's promise to a newcomer: the quick start is exactly two commands, and CI runs the second one itself.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO } from "./helpers/emulator-harness.js";

test("README quick start: exactly the demo and the test command; .ci/run runs that test command", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const quickStart = readme.slice(
    readme.indexOf("## Quick start"),
    readme.indexOf("### What the demo shows"),
  );
  const block = /```sh\n([\s\S]*?)```/.exec(quickStart)?.[1];
  assert.deepEqual(block?.trim().split("\n"), ["npm ci && npm run demo", "npm ci && npm test"]);
  const scripts = (
    JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }
  ).scripts;
  assert.ok(scripts.demo && scripts.test, "both commands exist");
  const ci = readFileSync(join(REPO, ".ci", "run"), "utf8");
  assert.match(ci, /^npm ci && npm test$/m);
});
