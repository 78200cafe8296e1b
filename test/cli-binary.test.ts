import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

test("npm run build produces a tfs-rollout binary whose --help lists the commands on stdout", async () => {
  await run("npm", ["run", "--silent", "build"], { cwd: root });
  const { stdout, stderr } = await run(process.execPath, ["dist/src/cli.js", "--help"], { cwd: root });
  assert.match(stdout, /Usage: tfs-rollout/);
  for (const command of ["inspect", "config"]) assert.match(stdout, new RegExp(`^  ${command}\\b`, "m"));
  assert.doesNotMatch(stderr, /Usage/);
});

test("the built binary exits 2 on an unknown command and says so on stderr only", async () => {
  const failure = await run(process.execPath, ["dist/src/cli.js", "frobnicate"], { cwd: root }).then(
    () => assert.fail("expected a non-zero exit"),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  assert.equal(failure.code, 2);
  assert.equal(failure.stdout, "");
  assert.match(failure.stderr, /unknown command 'frobnicate'/);
});
