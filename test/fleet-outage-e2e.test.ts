// Fleet mode end to end (issue 11), outages: a daemon stopped mid-rollout, one etcd member killed, all of etcd
// stopped. The same fleet as test/fleet-e2e.test.ts (3 etcd members, 3 emulators, 3 daemons, one shared model
// directory), in a file of its own to keep each file's run short.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { FleetStatus } from "../src/commands/fleet-view.js";
import { cli, parseJson, worldFlags } from "./helpers/cli-look.js";
import { etcdSkip } from "./helpers/etcd-cluster.js";
import {
  ALL,
  allOn,
  indexOf,
  reportsOf,
  rolloutOf,
  startFleetWorld,
  waitFleet,
} from "./helpers/fleet-world.js";
import { publish, stableVersion } from "./helpers/rollout-world.js";

const skip = etcdSkip();

test(
  "fleet: a daemon stopped mid-rollout, an etcd member killed, all of etcd stopped",
  { skip },
  async (t) => {
    const world = await startFleetWorld(t, { maxLoading: 2 });
    await allOn(world, "1");

    // 1. One daemon stopped (SIGTERM: it leaves the fleet) during a rollout: the others finish without it, and it
    // converges on the fleet's verdict when it comes back.
    publish(world.base, "2", { load_delay_ms: 1500 });
    await reportsOf(world, "2", "loading", 1);
    const coordinator = indexOf(world, await world.observer.coordinator("m"));
    const stopped = ALL.find((i) => i !== coordinator)!;
    assert.equal(await world.stopDaemon(stopped), 0, world.replicas[stopped]!.daemon!.stderr());
    const others = ALL.filter((i) => i !== stopped);
    await allOn(world, "2", others);
    assert.equal((await rolloutOf(world, "2"))?.decision?.verdict, "promote");
    world.startDaemon(stopped);
    await allOn(world, "2");
    await reportsOf(world, "2", "promoted", 3);
    // `tfs-rollout status` on a replica shows the fleet's view.
    const status = parseJson<{ models: { fleet?: FleetStatus }[] }>(
      await cli(["status", "m", "--json", ...worldFlags(world.replicas[stopped]!)]),
    ).models[0]?.fleet;
    assert.equal(status?.reachable, true);
    assert.equal(status?.stable, "2");
    assert.equal(status?.coordinator, world.replicas[coordinator]!.id);
    assert.deepEqual(
      status?.members.map((m) => m.replica),
      world.replicas.map((r) => r.id),
    );
    assert.deepEqual(
      status?.rollout?.reports.map((r) => [r.replica, r.phase]),
      world.replicas.map((r) => [r.id, "promoted"]),
    );

    // 2. One etcd member of three killed: the fleet carries on.
    await world.etcd.killMember(0);
    publish(world.base, "3");
    await allOn(world, "3");
    await world.etcd.startMember(0);

    // 3. All of etcd stopped: every replica sees the new version and waits, nothing is promoted, every TF Serving
    // keeps serving its stable; when etcd is back the fleet promotes it.
    const seen = world.replicas.map((r) => r.daemon!.events().length);
    await world.etcd.stop();
    publish(world.base, "4");
    await waitFleet(world, "every replica waiting for the coordination backend", () =>
      world.replicas.every((r, i) =>
        r
          .daemon!.events()
          .slice(seen[i])
          .some((e) => e.step === "wait" && String(e.waiting_for).startsWith("fleet-unreachable")),
      ),
    );
    assert.deepEqual(await world.stables(), ["3", "3", "3"], "nothing promoted while etcd is down");
    for (const replica of world.replicas)
      assert.equal(await stableVersion(replica), "3", `${replica.id} still answers on stable`);
    assert.ok(existsSync(join(world.base, "4")), "nothing removed while etcd is down");
    const down = await cli(["status", "m", "--json", ...worldFlags(world.replicas[0]!)]);
    assert.equal(down.code, 3, `status exits 3 (unreachable) while etcd is down: ${down.err}`);
    assert.match(down.err, /etcd is unreachable/);
    assert.equal(parseJson<{ models: { fleet?: FleetStatus }[] }>(down).models[0]?.fleet?.reachable, false);
    await world.etcd.start();
    await allOn(world, "4");
    assert.equal((await rolloutOf(world, "4"))?.decision?.verdict, "promote");
  },
);
