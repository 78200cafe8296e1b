import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { errorFromCall } from "./helpers/as-unprivileged.js";
import { RolloutError } from "../src/errors.js";
import { ensureStateDir, escapeModelName, StatePaths, unescapeModelName } from "../src/state/paths.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tfs-state-paths-"));
  dirs.push(dir);
  return dir;
}

test("ordinary model names are kept as they are", () => {
  for (const name of ["resnet", "half_plus_two", "bert-base.v2", "M1"])
    assert.equal(escapeModelName(name), name);
});

test("separators, dot names and odd bytes are escaped", () => {
  assert.equal(escapeModelName("../etc"), "%2E.%2Fetc");
  assert.equal(escapeModelName(".."), "%2E.");
  assert.equal(escapeModelName("."), "%2E");
  assert.equal(escapeModelName("a/b"), "a%2Fb");
  assert.equal(escapeModelName("a\\b"), "a%5Cb");
  assert.equal(escapeModelName("50%"), "50%25");
  assert.equal(escapeModelName("a b"), "a%20b");
  assert.equal(escapeModelName("modèle"), "mod%C3%A8le");
  assert.equal(escapeModelName("x\0y"), "x%00y");
  assert.throws(() => escapeModelName(""), RolloutError);
  assert.throws(() => escapeModelName("a\uD800"), /not valid Unicode/);
});

test("property: any name gives one safe path component, distinct names distinct components", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
      fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
      (a, b) => {
        const escaped = escapeModelName(a);
        assert.ok(!escaped.includes("/") && !escaped.includes("\0"));
        assert.ok(escaped !== "." && escaped !== ".." && !escaped.startsWith("."));
        assert.ok(Buffer.byteLength(escaped) <= 200);
        assert.equal(basename(join("/state/models", escaped)), escaped);
        if (a !== b) assert.notEqual(escaped, escapeModelName(b));
        if (!escaped.includes("~~")) assert.equal(unescapeModelName(escaped), a);
      },
    ),
  );
});

test("very long names are shortened with a digest and stay unique", () => {
  const a = "m".repeat(300);
  const b = `${"m".repeat(299)}n`;
  assert.match(escapeModelName(a), /^m+~~[0-9a-f]{32}$/);
  assert.notEqual(escapeModelName(a), escapeModelName(b));
  assert.equal(unescapeModelName(escapeModelName(a)), undefined);
});

test("the layout", () => {
  const paths = new StatePaths("/var/lib/tfs-rollout");
  assert.equal(paths.journal("a/b"), "/var/lib/tfs-rollout/models/a%2Fb/journal.jsonl");
  assert.equal(paths.verdicts("m"), "/var/lib/tfs-rollout/models/m/verdicts.json");
  assert.equal(paths.intentsDir("m"), "/var/lib/tfs-rollout/models/m/intents");
  assert.equal(paths.consumedIntentsDir("m"), "/var/lib/tfs-rollout/models/m/intents/consumed");
  assert.equal(paths.lockFile("config"), "/var/lib/tfs-rollout/locks/config.lock");
});

test("ensureStateDir creates the tree with mode 0700 and accepts an existing one", async () => {
  const root = join(await tempDir(), "deep", "state");
  const paths = await ensureStateDir(root);
  for (const dir of [paths.root, paths.modelsDir, paths.locksDir]) {
    const info = await stat(dir);
    assert.ok(info.isDirectory());
    assert.equal(info.mode & 0o777, 0o700);
  }
  await ensureStateDir(root);
});

test("a state dir path that is a file is a clear error with the fix", async () => {
  const file = join(await tempDir(), "state");
  await writeFile(file, "");
  await assert.rejects(ensureStateDir(file), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, file);
    assert.match(error.message, /not a directory/);
    assert.match(error.hint ?? "", /StateDirectory=.*--state-dir/);
    return true;
  });
});

test("a state dir that is not writable is a clear error with the fix (as nobody when run as root)", async () => {
  const parent = await tempDir();
  const dir = join(parent, "readonly");
  await mkdir(dir);
  await chmod(parent, 0o755);
  await chmod(dir, 0o555);
  try {
    const error = await errorFromCall("src/state/paths.ts", "ensureStateDir", [dir]);
    assert.equal(error.name, "RolloutError");
    assert.match(error.message, /not writable/);
    assert.match(error.hint ?? "", /--state-dir/);
  } finally {
    await chmod(dir, 0o700);
  }
});

test("a state dir under a file (cannot be created) is a clear error", async () => {
  const file = join(await tempDir(), "file");
  await writeFile(file, "");
  await assert.rejects(ensureStateDir(join(file, "state")), (error: unknown) => {
    assert.ok(error instanceof RolloutError);
    assert.equal(error.where, join(file, "state"));
    assert.match(error.hint ?? "", /StateDirectory=/);
    return true;
  });
});
