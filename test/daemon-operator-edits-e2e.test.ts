// End to end (emulator process + `tfs-rollout daemon` process): what operators do beside a running daemon. A hand
// edit of models.config (stable moved back by hand, a label added) is intent: accepted, logged, never undone; an
// intent put in the state dir (as the operator commands do) is consumed at once. The cron rescan is set to once a
// year, so the daemon's watchers are what notices.
import assert from "node:assert/strict";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { loadModelServerConfig } from "../src/modelconfig/load.js";
import { openLocalState } from "../src/state/local-store.js";
import type { ProtoObject } from "../src/tfserving/grpc-client.js";
import { waitFor } from "./helpers/emulator-harness.js";
import {
  configState,
  daemonYaml,
  invariantViolations,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
  type DaemonProcess,
} from "./helpers/rollout-world.js";

const TIMEOUT = 30_000;

const stepped = (d: DaemonProcess, step: string) =>
  d.events().filter((e) => e.step === step && e.outcome === "ok");

test("operator edits beside a running daemon: a hand edit is accepted as intent and kept; a CLI intent is consumed at once", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(world.daemonConfig, daemonYaml().replace('"*/2 * * * * *"', '"0 0 1 1 *"'));
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("adopted", async () => (await stableVersion(world)) === "1", TIMEOUT);
  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  await waitFor("2 verified", () => stepped(daemon, "verify").some((e) => e.version === "2"), TIMEOUT);

  // The operator moves stable back to 1 (still AVAILABLE) and adds a canary label on 2, keeping the comments,
  // then tells TF Serving, as an operator would.
  const text = readFileSync(world.configFile, "utf8");
  const edited = text
    .replace(/(key:\s*"stable"\s*value:\s*)2/, "$11")
    .replace(/version_labels\s*\{\s*key:\s*"stable"/, 'version_labels { key: "canary" value: 2 }\n    $&');
  assert.notEqual(edited, text);
  writeFileSync(`${world.configFile}.edit`, edited);
  renameSync(`${world.configFile}.edit`, world.configFile);
  const reloaded = (await loadModelServerConfig(world.configFile)).message;
  await world.grpc.reloadConfig(reloaded as unknown as ProtoObject);

  const accepted = await waitFor("hand edit accepted", () => stepped(daemon, "accept-hand-edit")[0], TIMEOUT);
  assert.match(String(accepted.reason), /label stable: 2 → 1/);
  assert.match(String(accepted.reason), /label canary: none → 2/);
  // Adoption verified 1 already: wait for the second verify of 1, the one after the hand edit.
  await waitFor(
    "stable 1 verified again",
    () => stepped(daemon, "verify").filter((e) => e.version === "1").length >= 2,
    TIMEOUT,
  );
  assert.deepEqual(configState(world).labels, { canary: "2", stable: "1" }, "not undone");
  assert.deepEqual(configState(world).specific, ["1", "2"]);
  assert.equal(await stableVersion(world), "1");
  assert.deepEqual(await invariantViolations(world), []);
  const state = await openLocalState(world.stateDir);
  const verdict = await state.verdicts.get("m", "1");
  assert.equal(verdict?.verdict, "promoted");
  assert.match(verdict?.reason ?? "", /hand edit/);

  // A CLI intent (what `tfs-rollout pin` writes) reaches the daemon without any rescan.
  const intent = await state.intents.put({
    model: "m",
    kind: "pin",
    args: { version: "1", reason: "incident" },
    by: "cli:alice",
  });
  await waitFor("pin applied", () => stepped(daemon, "set-pin").length > 0, TIMEOUT);
  await waitFor("intent consumed", async () => (await state.intents.consumed("m", intent.id)) !== undefined);
  assert.deepEqual(configState(world).labels, { canary: "2", stable: "1" });
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  assert.ok(configState(world).text.includes("# the model"), "comments kept");
});
