// Security checks of issue 9: no shell anywhere (every child_process use in src/ is listed and takes an argv
// array), the ops HTTP server binds loopback by default, the state directory is created 0700, and models.config
// keeps its mode and owner across an atomic rewrite. Each check passed is tallied.
import assert from "node:assert/strict";
import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULTS } from "../../src/daemon-config/index.js";
import { writeFileAtomic } from "../../src/modelconfig/atomic-write.js";
import { openLocalState } from "../../src/state/local-store.js";
import { REPO } from "../helpers/emulator-harness.js";
import { tempRoot } from "../helpers/rollout-world.js";
import { tally } from "./tally.js";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

test("no shell: src/ never passes shell: true, never calls exec/execSync, and spawns only from known files", () => {
  const users: string[] = [];
  for (const file of sourceFiles(join(REPO, "src"))) {
    const text = readFileSync(file, "utf8");
    assert.doesNotMatch(text, /shell:\s*true/, `${file} runs a shell`);
    assert.doesNotMatch(text, /(?<![.\w])exec(Sync)?\(/, `${file} calls exec (a shell)`);
    if (/from "node:child_process"|from "child_process"/.test(text)) users.push(file.slice(REPO.length + 1));
  }
  // A new use must be reviewed for shell-free argv before it is added here.
  assert.deepEqual(
    users.sort(),
    users.filter((f) => /^src\/(demo|systemd|emulator)\//.test(f)).sort(),
    users.join(", "),
  );
  tally("security_checks", "no shell invoked");
});

test("the ops HTTP server binds loopback by default", () => {
  assert.match(DEFAULTS.http.listen, /^127\.0\.0\.1:/);
  tally("security_checks", "HTTP binds loopback by default");
});

test("the state directory is created 0700", async (t) => {
  const temp = tempRoot();
  t.after(() => temp.cleanup());
  const dir = join(temp.dir, "state");
  await openLocalState(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  tally("security_checks", "state dir 0700");
});

test("models.config keeps its mode and owner across an atomic rewrite", async (t) => {
  const temp = tempRoot();
  t.after(() => temp.cleanup());
  const file = join(temp.dir, "models.config");
  writeFileSync(file, "model_config_list {}\n", { mode: 0o640 });
  if (process.getuid?.() === 0) chownSync(file, 65534, 65534);
  const before = statSync(file);
  await writeFileAtomic(file, 'model_config_list { config { name: "m" base_path: "/m" } }\n');
  const after = statSync(file);
  assert.notEqual(after.ino, before.ino, "replaced by a rename");
  assert.equal(after.mode & 0o7777, 0o640);
  assert.equal(after.uid, before.uid);
  assert.equal(after.gid, before.gid);
  tally("security_checks", "models.config mode and owner kept");
});
