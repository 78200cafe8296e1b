// End to end for the commands that only look: status, history and plan against the emulator process and a real
// `tfs-rollout daemon` process, with the daemon running, then stopped, then with TF Serving down.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLocalState } from "../src/state/local-store.js";
import { REPO, waitFor } from "./helpers/emulator-harness.js";
import { cli, parseJson, snapshotTree, worldFlags } from "./helpers/cli-look.js";
import {
  configState,
  daemonYaml,
  killEmulator,
  publish,
  spawnDaemon,
  stableVersion,
  startWorld,
} from "./helpers/rollout-world.js";
import type { ModelStatus, StatusVersion } from "../src/commands/status.js";
import type { AuditEvent } from "../src/commands/audit.js";
import type { PlanOutput } from "../src/commands/plan.js";
import type { SmokeReport } from "../src/commands/smoke.js";

const TIMEOUT = 30_000;

interface StatusDoc {
  tf_serving: { address: string; reachable: boolean };
  models: ModelStatus[];
}

const byVersion = (m: ModelStatus | undefined, v: string): StatusVersion | undefined =>
  m?.versions.find((x) => x.version === v);

test("status, history, plan: promoted, rejected, incomplete and candidate versions; daemon up, down; TF Serving down", async (t) => {
  const world = await startWorld();
  t.after(() => world.cleanup());
  writeFileSync(
    world.daemonConfig,
    daemonYaml()
      .replace("  quiet_window: 100ms", "  quiet_window: 100ms\n  incomplete_deadline: 1s")
      .replace("load_deadline: 30s", "load_deadline: 10m"), // 5 stays in flight however slow the machine
  );
  const flags = worldFlags(world);
  const state = await openLocalState(world.stateDir);
  const verdict = async (v: string) => (await state.verdicts.get("m", v))?.verdict;

  const daemon = spawnDaemon(world);
  t.after(() => void (daemon.child.exitCode === null && daemon.child.kill("SIGKILL")));
  await waitFor("adoption", () => configState(world).labels.stable === "1", TIMEOUT);

  publish(world.base, "2");
  await waitFor("stable → 2", async () => (await stableVersion(world)) === "2", TIMEOUT);
  publish(world.base, "3", { nan_outputs: true });
  await waitFor("3 rejected", async () => (await verdict("3")) === "rejected", TIMEOUT);
  mkdirSync(join(world.base, "4"));
  writeFileSync(join(world.base, "4", "half-copied"), "x");
  await waitFor("4 incomplete", async () => (await verdict("4")) === "incomplete", TIMEOUT);
  publish(world.base, "5", { load_delay_ms: 120_000 });
  await waitFor("5 candidate", async () => (await verdict("5")) === "candidate", TIMEOUT);

  // Daemon running: 5 is loading (await-available in flight).
  await waitFor(
    "5 in flight",
    async () => {
      const doc = parseJson<StatusDoc>(await cli(["status", "m", "--json", ...flags]));
      // TF Serving lists 5 as LOADING once its file-system poll has seen the directory, just after the reload.
      return (
        doc.models[0]?.in_flight?.step.kind === "await-available" &&
        byVersion(doc.models[0], "5")?.tf_state === "LOADING"
      );
    },
    TIMEOUT,
  );
  const running = await cli(["status", "m", "--json", ...flags]);
  assert.equal(running.code, 0, running.err);
  const doc = parseJson<StatusDoc>(running);
  assert.equal(doc.tf_serving.reachable, true);
  const m = doc.models[0];
  assert.equal(m?.model, "m");
  assert.equal(m?.stable, "2");
  assert.deepEqual(m?.labels, { stable: "2" });
  assert.equal(byVersion(m, "2")?.verdict, "promoted");
  assert.equal(byVersion(m, "2")?.tf_state, "AVAILABLE");
  assert.deepEqual(byVersion(m, "2")?.labels, ["stable"]);
  assert.equal(byVersion(m, "3")?.verdict, "rejected");
  assert.match(byVersion(m, "3")?.quarantined_as ?? "", /^\.rejected-3-/);
  assert.equal(byVersion(m, "3")?.dir, undefined, "3 is no longer on disk");
  assert.equal(byVersion(m, "4")?.verdict, "incomplete");
  assert.equal(byVersion(m, "4")?.dir, "4");
  assert.equal(byVersion(m, "5")?.verdict, "candidate");
  assert.equal(byVersion(m, "5")?.tf_state, "LOADING");
  assert.equal(byVersion(m, "5")?.listed, true);
  assert.match(m?.in_flight?.what ?? "", /5 to be AVAILABLE/);
  assert.equal(m?.next.kind, "running", "the daemon holds the model lock while it waits");
  assert.equal(m?.busy?.pid, daemon.child.pid);
  assert.equal(m?.last_gate?.version, "3");
  assert.equal(m?.last_gate?.passed, false);
  assert.match(m?.last_gate?.summary ?? "", /non-finite/);
  assert.ok((m?.events.length ?? 0) > 0);
  assert.ok(m?.events[0] !== undefined && m.events[0].at >= (m.events.at(-1)?.at ?? ""), "newest first");

  const table = await cli(["status", ...flags]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^MODEL m {2}stable=2 {2}policy specific \[1, 2, 5\] {2}TF Serving reachable$/m);
  assert.match(table.out, /^ {2}3 +\(\.rejected-3-\S+\) +- +rejected +END +- /m);
  assert.match(table.out, /^ {2}5 +5 +\S+ +candidate +LOADING +listed /m);
  assert.match(table.out, /in flight: wait for 5 to be AVAILABLE/);
  assert.match(table.out, /last gate: 3 FAILED/);

  const history = await cli(["history", "m", "--json", ...flags]);
  assert.equal(history.code, 0, history.err);
  const events = parseJson<{ events: AuditEvent[] }>(history).events;
  const find = (step: string, version: string) =>
    events.find((e) => e.step === step && e.version === version);
  assert.equal(find("admit", "2")?.by, "daemon");
  assert.equal(find("gate", "2")?.outcome, "ok");
  assert.equal(find("promote", "2")?.outcome, "ok");
  assert.equal(find("gate", "3")?.outcome, "failed");
  assert.match(find("gate", "3")?.reason ?? "", /non-finite/);
  assert.equal(find("quarantine", "3")?.outcome, "ok");
  assert.match(find("record-verdict", "4")?.what ?? "", /4 incomplete/);
  assert.equal(find("await-available", "5")?.outcome, "in-flight");
  const times = events.map((e) => e.at);
  assert.deepEqual(times, [...times].sort().reverse(), "newest first");
  const limited = parseJson<{ events: AuditEvent[] }>(
    await cli(["history", "--limit", "3", "--json", ...flags]),
  );
  assert.equal(limited.events.length, 3);

  // smoke while the daemon works: the stable version passes; the candidate still loading is refused.
  const smokeStable = await cli(["smoke", "m", "2", ...flags]);
  assert.equal(smokeStable.code, 0, smokeStable.err + smokeStable.out);
  const smokeLoading = await cli(["smoke", "m", "5", ...flags]);
  assert.equal(smokeLoading.code, 1);
  assert.match(smokeLoading.err, /version 5 of m is not loaded.*LOADING/);

  // plan while the daemon works: it reads only, and its JSON parses.
  const planned = await cli(["plan", "m", "--json", ...flags]);
  assert.equal(planned.code, 0, planned.err);
  assert.equal(parseJson<PlanOutput>(planned).models[0]?.model, "m");
  assert.equal(
    parseJson<PlanOutput>(planned).models[0]?.busy?.pid,
    daemon.child.pid,
    "plan says the daemon is at work",
  );

  // Daemon stopped (SIGTERM interrupts the wait: the step stays in flight, re-planned on restart).
  daemon.child.kill("SIGTERM");
  assert.equal(await daemon.exited, 0);
  const before = snapshotTree(world.stateDir);
  const stopped = await cli(["status", "m", "--json", ...flags]);
  assert.equal(stopped.code, 0, stopped.err);
  const after = parseJson<StatusDoc>(stopped).models[0];
  assert.equal(after?.in_flight?.step.kind, "await-available");
  assert.equal(after?.busy, null);
  assert.equal(after?.next.kind, "step");
  assert.equal(after?.next.step?.kind, "abandon");
  assert.match(after?.next.reason ?? "", /./);
  assert.equal(byVersion(after, "2")?.verdict, "promoted");
  const plan = await cli(["plan", "m", "--json", ...flags]);
  assert.equal(plan.code, 0, plan.err);
  assert.equal(
    parseJson<PlanOutput>(plan).models[0]?.steps[0]?.kind,
    "abandon",
    "the interrupted probe is re-planned",
  );
  // As a process: stdout holds the JSON document only, exit code as in-process.
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", join(REPO, "src/cli.ts"), "status", "--json", ...flags],
    {
      cwd: REPO,
      encoding: "utf8",
    },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal((JSON.parse(child.stdout) as StatusDoc).models[0]?.stable, "2");
  const smokeOld = parseJson<SmokeReport>(await cli(["smoke", "m", "1", "--json", ...flags]));
  assert.equal(smokeOld.passed, true);
  assert.equal(smokeOld.stable, "2", "compared against stable, as the daemon's gate does");
  assert.equal(snapshotTree(world.stateDir), before, "status, plan and smoke wrote nothing in the state dir");

  // TF Serving down: status still shows disk, verdicts and journal, says so, exits 3.
  await killEmulator(world);
  const down = await cli(["status", "m", "--json", ...flags]);
  assert.equal(down.code, 3, down.err);
  const downDoc = parseJson<StatusDoc>(down);
  assert.equal(downDoc.tf_serving.reachable, false);
  assert.equal(byVersion(downDoc.models[0], "2")?.verdict, "promoted");
  assert.equal(byVersion(downDoc.models[0], "2")?.tf_state, undefined);
  assert.match(
    down.err,
    new RegExp(`TF Serving at 127\\.0\\.0\\.1:${world.emulator.ports.grpc_port} is unreachable`),
  );
  assert.match(down.err, /--grpc HOST:PORT/);
  const downTable = await cli(["status", ...flags]);
  assert.equal(downTable.code, 3);
  assert.match(downTable.out, /TF Serving UNREACHABLE at 127\.0\.0\.1:\d+/);
  assert.match(downTable.out, /^ {2}2 +2 +- +promoted +unreachable /m);
  const downPlan = await cli(["plan", ...flags]);
  assert.equal(downPlan.code, 3);
  assert.match(downPlan.out, /waits: TF Serving is unreachable/);
  const downHistory = await cli(["history", ...flags]);
  assert.equal(downHistory.code, 0, "history needs only the journal");
});
