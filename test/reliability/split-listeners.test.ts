// Split outages: one of TF Serving's two listeners down while the other answers (the emulator's
// POST /faults/unavailable {"only": "grpc" | "rest"}), with a daemon that gates over both (tf_serving.rest_url
// set, so gate.use_rest). A half answer proves nothing: the candidate is neither promoted nor rejected while a
// listener it is gated over is down, a bake probe never rolls back for it, and every good version is promoted
// once both answer. Each scenario ends with the invariant checker (fault-world.ts `survived`).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Listener } from "../../src/emulator/faults.js";
import { waitFor } from "../helpers/emulator-harness.js";
import { configState, publish, stableVersion, type World } from "../helpers/rollout-world.js";
import { startFaultWorld, type FaultWorld } from "./fault-world.js";

/** The daemon gates over REST too, with short deadlines and backoffs. */
function withRest(extra: string, loadDeadline: string): (yaml: string, world: World) => string {
  return (yaml, world) =>
    `${yaml
      .replace(
        "tf_serving:\n",
        `tf_serving:\n  reload_deadline: 1s\n  rest_url: http://127.0.0.1:${world.emulator.ports.rest_api_port}\n`,
      )
      .replace(
        "load_deadline: 30s",
        `load_deadline: ${loadDeadline}`,
      )}\ngate:\n  request_deadline: 1s\n${extra}`;
}

async function splitWorld(
  t: { after(fn: () => unknown): void },
  extra = "",
  loadDeadline = "10s",
): Promise<FaultWorld> {
  return startFaultWorld(t, withRest(extra, loadDeadline), ["--rest_api_port=0"]);
}

async function down(fw: FaultWorld, only: Listener, seconds: number, rest: "503" | "reset" = "503") {
  await fw.control("POST", "/faults/unavailable", { seconds, only, rest });
}

async function restPredictsRefused(fw: FaultWorld): Promise<number> {
  const { calls } = (await fw.control("GET", "/calls?transport=rest&method=Predict&code=UNAVAILABLE")) as {
    calls: unknown[];
  };
  return calls.length;
}

// REST serves only the gate (after load and await-available) and the bake probes (after verify). gRPC alone down
// looks like TF Serving down to every step but the gate (covered after each step in faults.test.ts): here the
// steps around the gate, whose REST half would still pass.
const STEPS: Record<Listener, string[]> = {
  grpc: ["await-available", "gate", "promote"],
  rest: ["load", "await-available", "verify"],
};

for (const only of ["grpc", "rest"] as const) {
  test(`only ${only} down right after each step of a rollout, then back: each good version is promoted`, async (t) => {
    const fw = await splitWorld(t);
    const steps = STEPS[only];
    for (const [i, step] of steps.entries()) {
      const version = String(i + 2);
      publish(fw.world.base, version, { load_delay_ms: 300 });
      fw.guard.protect("m", version);
      await fw.stepLogged(step, version);
      await down(fw, only, 1.5);
      await fw.waitStable(version, `after ${only} was down at ${step}`);
    }
    await fw.survived(`only ${only} down after ${steps.join(", ")} and back`);
  });
}

// Was a bug: the gate's REST Predict failing with 503 (or a reset connection) while gRPC answered failed the gate,
// and the good candidate was rejected and quarantined. A failed gate now asks both listeners about the model:
// either one down makes the gate inconclusive (interrupted, re-run after a backoff), never failed.
for (const mode of ["503", "reset"] as const) {
  test(`REST down (${mode}) during the gate, gRPC up: the candidate waits (never promoted on the gRPC half), then is promoted`, async (t) => {
    const fw = await splitWorld(t);
    await fw.control("POST", "/faults/hold", { model: "m", version: 2 });
    publish(fw.world.base, "2");
    fw.guard.protect("m", "2");
    await fw.stepLogged("load", "2", "ok");
    await down(fw, "rest", 600, mode);
    await fw.control("DELETE", "/faults/hold", { model: "m", version: 2 });
    const interrupted = await fw.stepLogged("gate", "2", "interrupted");
    assert.match(String(interrupted.reason), /REST/);
    assert.equal(await stableVersion(fw.world), "1", "not promoted on the gRPC half of the gate");
    await down(fw, "rest", 0);
    await fw.waitStable("2", "once REST answers again");
    const gates = fw.daemon.events().filter((e) => e.step === "gate" && e.version === "2");
    assert.deepEqual(
      gates.filter((e) => e.outcome !== "interrupted").map((e) => e.outcome),
      ["ok"],
      "the gate never failed for the outage",
    );
    await fw.survived(`REST down (${mode}) during the gate`);
  });
}

test("gRPC down while the candidate loads, past its load deadline, REST up: the candidate waits, then is promoted", async (t) => {
  const fw = await splitWorld(t, "", "2s");
  await fw.control("POST", "/faults/hold", { model: "m", version: 2 });
  publish(fw.world.base, "2");
  fw.guard.protect("m", "2");
  await fw.stepLogged("load", "2", "ok");
  await down(fw, "grpc", 600);
  await fw.control("DELETE", "/faults/hold", { model: "m", version: 2 });
  // The daemon noticed (an interrupted await, or a pass that waits), and the outage outlasted load_deadline.
  await waitFor("the daemon waiting on gRPC", () =>
    fw.daemon.events().some((e) => /UNAVAILABLE/.test(`${String(e.reason)} ${String(e.waiting_for)}`)),
  );
  await waitFor("3 s of outage (past the 2 s load deadline)", async () => {
    const faults = (await fw.control("GET", "/faults")) as { unavailable: { remaining_ms: number } };
    return faults.unavailable.remaining_ms <= 597_000;
  });
  assert.equal(configState(fw.world).labels.stable, "1", "not promoted while gRPC is down");
  await down(fw, "grpc", 0);
  await fw.waitStable("2", "once gRPC answers again");
  await fw.survived("gRPC down while the candidate loads");
});

// Same bug in the bake period: a bake probe whose REST half failed for a REST outage rolled a good version back.
test("REST down during the bake period: no automatic rollback, the promoted version stays stable", async (t) => {
  const fw = await splitWorld(t, 'bake:\n  period: 1h\n  probe_cron: "* * * * * *"\n');
  publish(fw.world.base, "2");
  fw.guard.protect("m", "2");
  await fw.waitStable("2", "before the outage");
  await down(fw, "rest", 600);
  const before = await restPredictsRefused(fw);
  // Two probes refused over REST (each probe sends one REST Predict): the bake has seen the outage twice.
  await waitFor(
    "two bake probes hit the REST outage",
    async () => (await restPredictsRefused(fw)) >= before + 2,
  );
  await down(fw, "rest", 0);
  assert.equal(await stableVersion(fw.world), "2");
  assert.deepEqual(
    fw.daemon.events().filter((e) => e.step === "bake-probe" && e.outcome === "failed"),
    [],
    "no bake probe failed for the outage",
  );
  await fw.survived("REST down during the bake period");
});
