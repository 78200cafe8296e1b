import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import {
  ATOMIC_WRITE_STEPS,
  type AtomicWriteStep,
  writeFileAtomic,
  writeModelServerConfig,
} from "../src/modelconfig/atomic-write.js";
import { TextFormatError } from "../src/textformat/parse.js";
import { RolloutError } from "../src/errors.js";
import { errorFromCall } from "./helpers/as-unprivileged.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PRE_RENAME_STEPS = ["temp-created", "temp-written", "temp-synced"] as const;

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "atomic-write-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("writes the new bytes and leaves only the target in the directory", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFile(target, "old");
    await writeFileAtomic(target, "model_config_list {}\n");
    assert.equal(await readFile(target, "utf8"), "model_config_list {}\n");
    assert.deepEqual(await readdir(dir), ["models.config"]);
  }));

test("creates a missing target in an existing directory", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFileAtomic(target, Buffer.from([1, 2, 3]));
    assert.deepEqual([...(await readFile(target))], [1, 2, 3]);
  }));

test("keeps the target's permission bits", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFile(target, "old");
    await chmod(target, 0o640);
    await writeFileAtomic(target, "new");
    assert.equal((await stat(target)).mode & 0o7777, 0o640);
    await chmod(target, 0o604);
    await writeFileAtomic(target, "newer");
    assert.equal((await stat(target)).mode & 0o7777, 0o604);
  }));

test("keeps the target's owner when allowed to (root only)", { skip: skipUnlessRoot() }, () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFile(target, "old");
    await chown(target, 12345, 23456);
    await writeFileAtomic(target, "new");
    const info = await stat(target);
    assert.deepEqual([info.uid, info.gid], [12345, 23456]);
  }),
);

test("the steps run in order and the temp file is a hidden sibling that TF Serving never reads", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    const seen: { step: AtomicWriteStep; temp: string }[] = [];
    await writeFileAtomic(target, "x", { onStep: (step, temp) => void seen.push({ step, temp }) });
    assert.deepEqual(
      seen.map((s) => s.step),
      [...ATOMIC_WRITE_STEPS],
    );
    const temp = seen[0]!.temp;
    assert.equal(dirname(temp), dir);
    assert.match(temp, /\/\.models\.config\.tmp-\d+-[0-9a-f]{12}$/);
  }));

for (const crashAt of PRE_RENAME_STEPS) {
  test(`a crash at ${crashAt} leaves the old file byte-identical and removes the temp file`, () =>
    withTempDir(async (dir) => {
      const target = join(dir, "models.config");
      const old = Buffer.from('model_config_list { config { name: "a" } }\n\u00ff\u0000');
      await writeFile(target, old);
      await assert.rejects(
        writeFileAtomic(target, "truncated", {
          onStep: (step) => {
            if (step === crashAt) throw new Error("simulated crash");
          },
        }),
        (error: unknown) => error instanceof RolloutError && /simulated crash/.test(error.message),
      );
      assert.deepEqual(await readFile(target), old);
      assert.deepEqual(await readdir(dir), ["models.config"]);
    }));
}

test("a symlinked target is followed: the link survives and its destination gets the bytes", () =>
  withTempDir(async (dir) => {
    await mkdir(join(dir, "real"));
    const real = join(dir, "real", "models.config");
    await writeFile(real, "old");
    const link = join(dir, "models.config");
    await symlink("real/models.config", link);
    await writeFileAtomic(link, "new");
    assert.equal(await readlink(link), "real/models.config");
    assert.equal(await readFile(real, "utf8"), "new");
  }));

test("refuses a target whose directory does not exist, creating nothing", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "missing", "models.config");
    await assert.rejects(writeFileAtomic(target, "x"), (error: unknown) => {
      assert.ok(error instanceof RolloutError);
      assert.match(error.message, /refusing to write .*: its directory .*missing does not exist/);
      assert.equal(error.where, target);
      assert.ok(error.hint);
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
  }));

test("refuses a dangling symlink into a missing directory, naming the link", () =>
  withTempDir(async (dir) => {
    const link = join(dir, "models.config");
    await symlink(join(dir, "gone", "models.config"), link);
    await assert.rejects(writeFileAtomic(link, "x"), /gone does not exist \(the symlink .* points there\)/);
    assert.deepEqual(await readdir(dir), ["models.config"]);
  }));

test("a dangling symlink into an existing directory creates the file it names", () =>
  withTempDir(async (dir) => {
    const link = join(dir, "models.config");
    await symlink("actual.config", link);
    await writeFileAtomic(link, "x");
    assert.equal(await readFile(join(dir, "actual.config"), "utf8"), "x");
    assert.equal(await readlink(link), "actual.config");
  }));

test("refuses a directory as the target", () =>
  withTempDir(async (dir) => {
    await assert.rejects(writeFileAtomic(dir, "x"), /is a directory, not a config file/);
  }));

test("a directory it cannot write to is a clear error and the target is untouched", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFile(target, "old");
    await chmod(dir, 0o555);
    try {
      // Root ignores directory permissions, so as root the write runs in a child as the unprivileged "nobody".
      const error = await errorFromCall("src/modelconfig/atomic-write.ts", "writeFileAtomic", [
        target,
        "new",
      ]);
      assert.equal(error.name, "RolloutError");
      assert.match(error.message, /cannot create a temporary file in/);
      assert.match(error.hint ?? "", /writable/);
    } finally {
      await chmod(dir, 0o700);
    }
    assert.equal(await readFile(target, "utf8"), "old");
    assert.deepEqual(await readdir(dir), ["models.config"]);
  }));

/** Runs a child that writes `next` over `target` and SIGKILLs itself at `killAt`; resolves with its signal. */
async function writeAndKillChild(
  target: string,
  next: Buffer,
  killAt: AtomicWriteStep,
): Promise<string | null> {
  const script = join(dirname(target), "crash-child.mts");
  const moduleUrl = pathToFileURL(join(PROJECT_ROOT, "src/modelconfig/atomic-write.ts")).href;
  await writeFile(
    script,
    `import { writeFileAtomic } from ${JSON.stringify(moduleUrl)};
const [target, hex, killAt] = process.argv.slice(2);
await writeFileAtomic(target, Buffer.from(hex, "hex"), {
  onStep: (step) => { if (step === killAt) process.kill(process.pid, "SIGKILL"); },
});
process.exit(0);
`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script, target, next.toString("hex"), killAt], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
    child.on("exit", (c, s) => done([c, s])),
  );
  await rm(script);
  assert.equal(code, null, `child exited normally instead of being killed: ${stderr}`);
  return signal;
}

for (const killAt of ATOMIC_WRITE_STEPS) {
  test(`a real SIGKILL at ${killAt} leaves the target wholly ${isPreRename(killAt) ? "old" : "new"}`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 4096 }),
        fc.uint8Array({ minLength: 0, maxLength: 4096 }),
        (oldBytes, newBytes) =>
          withTempDir(async (dir) => {
            const target = join(dir, "models.config");
            await writeFile(target, oldBytes);
            assert.equal(await writeAndKillChild(target, Buffer.from(newBytes), killAt), "SIGKILL");
            const expected = isPreRename(killAt) ? oldBytes : newBytes;
            assert.deepEqual(await readFile(target), Buffer.from(expected));
            // A killed writer may leave its temp file, but only under a name TF Serving never reads.
            const others = (await readdir(dir)).filter((name) => name !== "models.config");
            assert.ok(
              others.every((name) => /^\.models\.config\.tmp-\d+-[0-9a-f]{12}$/.test(name)),
              `${others}`,
            );
          }),
      ),
      { numRuns: 2, seed: 20261121 },
    );
  });
}

function isPreRename(step: AtomicWriteStep): boolean {
  return (PRE_RENAME_STEPS as readonly string[]).includes(step);
}

function skipUnlessRoot(): string | false {
  return process.getuid?.() === 0 ? false : "not root: cannot give a file to another owner";
}

test("writeModelServerConfig returns the exact bytes written and the message parsed from them", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    const text =
      'model_config_list { config { name: "m" base_path: "/m" model_platform: "tensorflow" ' +
      "model_version_policy { specific { versions: 9223372036854775807 } } } }\n# é\n";
    const written = await writeModelServerConfig(target, text);
    assert.deepEqual(written.bytes, await readFile(target));
    assert.deepEqual(written.message, {
      model_config_list: {
        config: [
          {
            name: "m",
            base_path: "/m",
            model_platform: "tensorflow",
            model_version_policy: { specific: { versions: ["9223372036854775807"] } },
          },
        ],
      },
    });
  }));

test("writeModelServerConfig refuses text TF Serving could not parse and leaves the file alone", () =>
  withTempDir(async (dir) => {
    const target = join(dir, "models.config");
    await writeFile(target, "model_config_list {}\n");
    await assert.rejects(
      writeModelServerConfig(target, "model_config_list { config { name: "),
      (error: unknown) => error instanceof TextFormatError && error.file === target,
    );
    assert.equal(await readFile(target, "utf8"), "model_config_list {}\n");
    assert.deepEqual(await readdir(dir), ["models.config"]);
  }));
