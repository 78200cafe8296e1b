// End to end (issue 7, "Rollout windows and approval", "Retention"): the emulator and `tfs-rollout daemon` as
// processes. A candidate waits labelled canary for its window and for approval; the approval timeout rejects;
// retention deletes what it should and keeps stable, the previous stable, pinned and in-flight versions.
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../src/program.js";
import { openLocalState } from "../src/state/local-store.js";
import type { JsonValue } from "../src/state/store.js";
import { captureIo } from "./helpers/capture-io.js";
import { waitFor } from "./helpers/emulator-harness.js";
import {
  configState,
  daemonArgs,
  daemonYaml,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
  type World,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

const stepEvents = (daemon: DaemonProcess, step: string, version?: string) =>
  daemon.events().filter((e) => e.step === step && (version === undefined || e.version === version));

async function running(
  t: { after(fn: () => unknown): void },
  yaml: string,
): Promise<{ world: World; daemon: DaemonProcess }> {
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(world.daemonConfig, daemonYaml(yaml));
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("adopted: stable 1", async () => (await stableVersion(world)) === "1", TIMEOUT);
  return { world, daemon };
}

async function reload(world: World, daemon: DaemonProcess, yaml: string): Promise<void> {
  const before = daemon.events().filter((e) => e.msg === "SIGHUP: daemon config reloaded").length;
  writeFileSync(world.daemonConfig, daemonYaml(yaml));
  daemon.child.kill("SIGHUP");
  await waitFor(
    "SIGHUP reload",
    () => daemon.events().filter((e) => e.msg === "SIGHUP: daemon config reloaded").length > before,
  );
}

async function putIntent(world: World, kind: string, args: { [key: string]: JsonValue }): Promise<void> {
  const state = await openLocalState(world.stateDir);
  await state.intents.put({ model: "m", kind, args, by: "cli:e2e" });
}

async function stop(daemon: DaemonProcess): Promise<void> {
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  assert.equal(daemon.stderr(), "");
}

test("window: a gated candidate waits labelled canary (stable untouched) until its window opens, then is promoted", async (t) => {
  // A window that opens once a year: closed for the whole test.
  const { world, daemon } = await running(
    t,
    'promotion:\n  timezone: UTC\n  windows: [{ cron: "0 0 1 1 *", duration: 1m }]',
  );
  publish(world.base, "2");
  await waitFor("2 labelled canary", () => configState(world).labels.canary === "2", TIMEOUT);
  assert.deepEqual(configState(world).labels, { canary: "2", stable: "1" });
  assert.equal(await stableVersion(world), "1");
  await waitFor("waiting for the window", () =>
    daemon
      .events()
      .some((e) => e.step === "wait" && /waits for a promotion window/.test(String(e.waiting_for))),
  );
  assert.equal(stepEvents(daemon, "promote").length, 0);

  // Now a window opening on the next whole 3 seconds (6-field cron with seconds), 2 s long.
  const reloadedAt = Date.now();
  await reload(
    world,
    daemon,
    'promotion:\n  timezone: UTC\n  windows: [{ cron: "*/3 * * * * *", duration: 2s }]',
  );
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  await waitFor("promote event", () => stepEvents(daemon, "promote", "2").length > 0, TIMEOUT);
  const promote = stepEvents(daemon, "promote", "2")[0];
  assert.equal(promote?.outcome, "ok");
  // Never before the window opened: when the reload landed outside it, the wait said when it opens.
  const started = Number(promote?.time) - Number(promote?.duration_ms);
  assert.ok(started >= reloadedAt, "not before the window was configured");
  const opens = daemon
    .events()
    .filter((e) => e.step === "wait" && Number(e.time) >= reloadedAt)
    .map((e) => /opens (\S+)\)?$/.exec(String(e.waiting_for))?.[1])
    .filter((iso): iso is string => iso !== undefined)
    .at(-1);
  if (opens !== undefined)
    assert.ok(started >= Date.parse(opens), `promoted at ${started}, window opened ${opens}`);
  assert.deepEqual(configState(world).labels, { stable: "2" }, "canary removed in the promote reload");
  await stop(daemon);
});

test("approval: the candidate waits labelled canary until a promote intent; a later one times out and is rejected", async (t) => {
  const { world, daemon } = await running(
    t,
    "approval:\n  required: true\n  timeout: 1h\n  on_timeout: reject",
  );
  publish(world.base, "2");
  await waitFor(
    "approval requested for 2",
    () => stepEvents(daemon, "request-approval", "2").length > 0,
    TIMEOUT,
  );
  assert.deepEqual(configState(world).labels, { canary: "2", stable: "1" });
  const request = stepEvents(daemon, "request-approval", "2")[0];
  assert.match(String(request?.reason), /waits for approval: run `tfs-rollout promote m`/);
  assert.equal(stepEvents(daemon, "promote").length, 0);

  await putIntent(world, "promote", {});
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  await waitFor(
    "labels: stable 2 only",
    () => JSON.stringify(configState(world).labels) === '{"stable":"2"}',
  );
  assert.equal(stepEvents(daemon, "request-approval", "2").length, 1, "approval_waiting once per candidate");
  assert.equal(stepEvents(daemon, "start-promote", "2").length, 1);

  await reload(world, daemon, "approval:\n  required: true\n  timeout: 1500ms\n  on_timeout: reject");
  publish(world.base, "3");
  await waitFor(
    "approval requested for 3",
    () => stepEvents(daemon, "request-approval", "3").length > 0,
    TIMEOUT,
  );
  await waitFor("3 rejected", () => stepEvents(daemon, "record-verdict", "3").length > 0, TIMEOUT);
  const failed = stepEvents(daemon, "mark-failed", "3")[0];
  assert.match(String(failed?.reason), /approval timed out/);
  const after = configState(world);
  assert.deepEqual(after.labels, { stable: "2" });
  assert.deepEqual(after.specific, ["1", "2"]);
  assert.ok(
    readdirSync(world.base).some((n) => /^\.rejected-3-\d{8}T\d{6}Z$/.test(n)),
    "rolled back off disk like a failed gate",
  );
  assert.equal(await stableVersion(world), "2");
  const state = await openLocalState(world.stateDir);
  assert.equal((await state.verdicts.get("m", "3"))?.verdict, "rejected");
  await stop(daemon);
});

test("retention: deletes superseded promoted versions and old rejected directories, reporting bytes; keeps stable, previous, pinned and in-flight", async (t) => {
  const { world, daemon } = await running(t, "");
  for (const v of ["2", "3", "4"]) {
    publish(world.base, v);
    await waitFor(`stable → ${v}`, async () => (await stableVersion(world)) === v, TIMEOUT);
  }
  publish(world.base, "5", { nan_outputs: true });
  await waitFor("5 rejected", () => stepEvents(daemon, "record-verdict", "5").length > 0, TIMEOUT);
  // Pin stable 4; candidate 6 is then gated but held: in flight.
  await putIntent(world, "pin", { version: "4", reason: "e2e" });
  await waitFor("pinned", () => stepEvents(daemon, "set-pin").length > 0, TIMEOUT);
  publish(world.base, "6");
  await waitFor(
    "6 waits behind the pin",
    () => daemon.events().some((e) => e.step === "wait" && /pinned to 4/.test(String(e.waiting_for))),
    TIMEOUT,
  );
  const rejectedDir = readdirSync(world.base).find((n) => n.startsWith(".rejected-5-"));
  assert.ok(rejectedDir, "5 was renamed");
  assert.equal(stepEvents(daemon, "reclaim").length, 0, "retention is opt-in: nothing reclaimed so far");

  const retention =
    'retention:\n  enabled: true\n  keep_promoted: 1\n  keep_rejected_for: 1ms\n  cron: "* * * * * *"';
  // Dry run first (`tfs-rollout plan`, with the config the daemon is about to get): shown, nothing deleted.
  writeFileSync(world.daemonConfig, daemonYaml(retention));
  const io = captureIo();
  assert.equal(await runCli(["plan", "m", "--json", ...daemonArgs(world).slice(1, 5)], io), 0, io.err);
  const dry = JSON.parse(io.out) as { models: { summary: { reclaimed: string[] } }[] };
  assert.deepEqual(dry.models[0]?.summary.reclaimed.sort(), [rejectedDir, "2"].sort());
  assert.ok(existsSync(join(world.base, "2")) && existsSync(join(world.base, rejectedDir)));

  await reload(world, daemon, retention);
  await waitFor(
    "reclaimed",
    () => stepEvents(daemon, "reclaim").some((e) => Number(e.bytes_reclaimed) > 0),
    TIMEOUT,
  );
  const reclaim = stepEvents(daemon, "reclaim").find((e) => Number(e.bytes_reclaimed) > 0)!;
  assert.equal(reclaim.outcome, "ok");
  const reclaimed = reclaim.reclaimed as { dir: string; bytes: number }[];
  assert.deepEqual(reclaimed.map((r) => r.dir).sort(), [rejectedDir, "2"].sort());
  assert.ok(reclaimed.every((r) => r.bytes > 0));
  assert.equal(
    reclaim.bytes_reclaimed,
    reclaimed.reduce((sum, r) => sum + r.bytes, 0),
  );
  assert.match(String(reclaim.reason), /reclaimed 2 directories, \d+ bytes/);

  // Kept: 1 (adopted, never promoted by the daemon), 3 (previous stable), 4 (stable, pinned), 6 (in flight).
  assert.deepEqual(
    readdirSync(world.base)
      .filter((n) => !n.startsWith("."))
      .sort(),
    ["1", "3", "4", "6"],
  );
  assert.ok(!existsSync(join(world.base, rejectedDir)));
  assert.equal(await stableVersion(world), "4");
  // Scheduled every second, later runs find nothing more to do.
  await waitFor(
    "a later empty run",
    () => stepEvents(daemon, "reclaim").some((e) => e.reason === "retention: nothing to reclaim"),
    TIMEOUT,
  );
  await stop(daemon);
});
