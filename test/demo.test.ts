// `npm run demo` as a user runs it (a process, in a temp dir of the test's own through TMPDIR), plus the pure
// timeline formatting. The demo must end with the three outcomes and leave no process and no temp dir behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkCompleteness } from "../src/admission/completeness.js";
import { copySlowly, publishAtomically, writeVersion } from "../src/demo/model.js";
import { parseEvents, timeline } from "../src/demo/timeline.js";
import { readSavedModel } from "../src/savedmodel/reader.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: Promise<number | string>;
  out(): string;
  err(): string;
  kill(signal: NodeJS.Signals): void;
}

function run(command: string, args: string[], tmp: string): Run {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return {
    code: new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "?"))),
    out: () => out,
    err: () => err,
    kill: (signal) => child.kill(signal),
  };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pids the demo reports for the emulator and the daemon. */
function childPids(out: string): number[] {
  return [...new Set([...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1])))];
}

async function assertNothingLeft(tmp: string, pids: number[]): Promise<void> {
  await eventually(`processes ${pids.join(", ")} gone`, () => pids.every((pid) => !isAlive(pid)));
  // tsx keeps its compile cache in the temp dir (tsx-<uid>); nothing else may remain.
  const left = readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name));
  assert.deepEqual(left, [], "the demo's temp dir is removed");
}

function tempParent(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-demo-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("npm run demo: promotes, holds then promotes, rolls back; stable never fails; exits 0 leaving nothing behind", async (t) => {
  const tmp = tempParent(t);
  const demo = run("npm", ["run", "-s", "demo"], tmp);
  const code = await demo.code;
  const out = demo.out();
  assert.equal(code, 0, `${out}\n${demo.err()}`);
  assert.match(out, /\(a\) version 2 \(renamed into place\): PROMOTED, stable -> 2/);
  assert.match(out, /\(b\) version 3 \(copied slowly\): HELD while being copied, then PROMOTED, stable -> 3/);
  assert.match(
    out,
    /\(c\) version 4 \(NaN outputs\): ROLLED BACK \(gate: .*non-finite.*\); renamed to \.rejected-4-\d{8}T\d{6}Z; stable stayed 3/,
  );
  const clients = /clients: (\d+) Predict requests by label stable, (\d+) failed/.exec(out);
  assert.ok(clients && Number(clients[1]) > 0, "client traffic ran");
  assert.equal(clients[2], "0", "no request by label stable failed");
  assert.match(out, /half_plus_two +v?\s+wait +held +held: still being copied \(version\(s\) 3\)/);
  assert.match(out, /half_plus_two +v4 +gate +failed +.*non-finite/);
  for (const version of ["2", "3"])
    assert.match(
      out,
      new RegExp(`half_plus_two +v${version} +promote +ok +wrote specific \\[.*\\] stable=${version}`),
    );
  assert.match(out, /half_plus_two +v4 +quarantine +ok +renamed 4 to \.rejected-4-/);
  assert.doesNotMatch(out, /half_plus_two +v4 +promote/, "the broken version is never promoted");
  assert.match(out, /# This comment, and the one on the model's name, survive every edit\./);
  assert.match(out, /name: "half_plus_two" {2}# TF Serving's test model/);
  assert.match(out, /tfs-rollout status:\n.*half_plus_two/);
  assert.match(out, /demo: every expected outcome happened/);
  const pids = childPids(out);
  assert.equal(pids.length, 2, "the demo names the emulator's and the daemon's pids");
  await assertNothingLeft(tmp, pids);
});

test("demo: Ctrl-C stops the daemon and the emulator and removes the temp dir (exit 130)", async (t) => {
  const tmp = tempParent(t);
  const demo = run(process.execPath, ["--import", "tsx", "src/demo/main.ts"], tmp);
  t.after(() => demo.kill("SIGKILL"));
  await eventually("the daemon started", () => childPids(demo.out()).length === 2, 30_000);
  demo.kill("SIGINT");
  assert.equal(await demo.code, 130, demo.err());
  assert.match(demo.err(), /SIGINT: stopping the daemon and the emulator, removing the temp dir/);
  await assertNothingLeft(tmp, childPids(demo.out()));
});

test("demo --keep keeps the temp dir and says where it is; an unknown argument is a usage error", async (t) => {
  const tmp = tempParent(t);
  const demo = run(process.execPath, ["--import", "tsx", "src/demo/main.ts", "--keep"], tmp);
  t.after(() => demo.kill("SIGKILL"));
  await eventually("the daemon started", () => childPids(demo.out()).length === 2, 30_000);
  demo.kill("SIGTERM");
  assert.equal(await demo.code, 130, demo.err());
  const kept = /kept the demo's files in (\S+)/.exec(demo.err())?.[1];
  assert.ok(kept !== undefined && kept.startsWith(tmp), demo.err());
  assert.ok(readdirSync(kept).includes("models.config"));
  for (const pid of childPids(demo.out())) await eventually(`pid ${pid} gone`, () => !isAlive(pid));

  const bad = run(process.execPath, ["--import", "tsx", "src/demo/main.ts", "--fast"], tmp);
  assert.equal(await bad.code, 2);
  assert.match(bad.err(), /demo: unknown argument --fast\nusage: npm run demo \[-- --keep\]/);
});

test("timeline: daemon steps and demo notes in time order, admission waits shown as held", () => {
  const start = 1_000_000;
  const events = parseEvents([
    JSON.stringify({
      time: start + 2500,
      model: "m",
      version: "2",
      step: "gate",
      outcome: "failed",
      reason: "NaN",
    }),
    "not json",
    JSON.stringify({
      time: start + 900,
      model: "m",
      step: "wait",
      waiting_for: "admission-pending: version(s) 2 still being copied",
    }),
    JSON.stringify({ time: start + 100, msg: "tfs-rollout daemon starting" }),
  ]);
  assert.equal(events.length, 3);
  assert.deepEqual(timeline(events, [{ time: start + 1200, text: "copied 2/saved_model.pb" }], start), [
    "  +0.9s  m      wait  held    held: still being copied (version(s) 2)",
    "  +1.2s  -- demo: copied 2/saved_model.pb",
    "  +2.5s  m  v2  gate  failed  NaN",
  ]);
});

test("the slow copy is incomplete for the admission check at every pause, complete at the end", async (t) => {
  const tmp = tempParent(t);
  const source = join(tmp, "source");
  writeVersion(source);
  const base = join(tmp, "base");
  const seen: boolean[] = [];
  const written: string[] = [];
  const target = await copySlowly(
    source,
    base,
    "3",
    700,
    (file) => written.push(file),
    async () => void seen.push((await checkCompleteness(join(base, "3"))).complete),
  );
  assert.equal(target, join(base, "3"));
  assert.deepEqual(written, [
    "variables/variables.data-00000-of-00001",
    "variables/variables.index",
    "saved_model.pb",
  ]);
  assert.deepEqual(seen, [false, false, false, false, false], "held back at every pause");
  assert.equal((await checkCompleteness(target)).complete, true);
});

test("the demo's half_plus_two: serving_default x float [-1] -> y float [-1]; behaviour only when asked", (t) => {
  const tmp = tempParent(t);
  const good = publishAtomically(tmp, "2");
  const broken = publishAtomically(tmp, "4", { nan_outputs: true });
  assert.deepEqual(readdirSync(tmp).sort(), ["2", "4"], "staged under 2.tmp/4.tmp, then renamed");
  const signature = readSavedModel(good).signatures.serving_default;
  assert.equal(signature?.inputs.x?.dtype, "DT_FLOAT");
  assert.deepEqual(signature?.inputs.x?.shape, [-1]);
  assert.deepEqual(signature?.outputs.y?.shape, [-1]);
  assert.ok(!readdirSync(good).includes("assets.extra"));
  assert.deepEqual(JSON.parse(readFileSync(join(broken, "assets.extra", "emulator.json"), "utf8")), {
    nan_outputs: true,
  });
});
