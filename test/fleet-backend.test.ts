// One contract suite for every fleet backend: the in-process MemoryFleet, and the etcd backend against a real
// 3-member etcd cluster on loopback (skipped with a reason when the etcd binary is missing, a failure under CI).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { FleetUnreachableError, type FleetBackend } from "../src/fleet/backend.js";
import { openEtcdFleet, type EtcdFleet } from "../src/fleet/etcd-backend.js";
import { MemoryFleet } from "../src/fleet/memory-backend.js";
import { waitFor } from "./helpers/emulator-harness.js";
import { toolSkip } from "./helpers/fixtures.js";
import { etcdSkip, startEtcdCluster, type EtcdCluster } from "./helpers/etcd-cluster.js";

const TTL_SECONDS = 2;
/** Long enough for a TTL to run out and etcd to revoke the lease on a busy machine. */
const EXPIRY_MS = 20_000;

/** What a contract test needs from a backend: replicas, their death, and an outage of the whole engine. */
interface FleetUnderTest {
  /** A started replica in a fleet of its own per test (`fleet` names it), stopped after the suite. */
  replica(fleet: string, id: string): Promise<FleetBackend>;
  /** The replica dies without leaving (SIGKILL): its lease runs out. */
  kill(replica: FleetBackend): Promise<void>;
  outage(): Promise<void>;
  restore(): Promise<void>;
}

function memoryUnderTest(): FleetUnderTest & { close(): Promise<void> } {
  const fleets = new Map<string, MemoryFleet>();
  const opened: FleetBackend[] = [];
  const fleetOf = (name: string): MemoryFleet => {
    const fleet = fleets.get(name) ?? new MemoryFleet();
    fleets.set(name, fleet);
    return fleet;
  };
  const owner = new Map<FleetBackend, MemoryFleet>();
  return {
    async replica(fleet, id) {
      const backend = fleetOf(fleet).replica(id);
      owner.set(backend, fleetOf(fleet));
      await backend.start();
      opened.push(backend);
      return backend;
    },
    kill(replica) {
      owner.get(replica)!.kill(replica.replica);
      return Promise.resolve();
    },
    outage() {
      for (const fleet of fleets.values()) fleet.setReachable(false);
      return Promise.resolve();
    },
    restore() {
      for (const fleet of fleets.values()) fleet.setReachable(true);
      return Promise.resolve();
    },
    async close() {
      await Promise.all(opened.map((b) => b.stop()));
    },
  };
}

function etcdUnderTest(cluster: () => EtcdCluster): FleetUnderTest & { close(): Promise<void> } {
  const opened: EtcdFleet[] = [];
  return {
    async replica(fleet, id) {
      const backend = await openEtcdFleet({
        endpoints: cluster().endpoints,
        prefix: `/test-${fleet}/`,
        replica: id,
        leaseTtlSeconds: TTL_SECONDS,
        callTimeoutMs: 2000,
        dialTimeoutMs: 2000,
      });
      opened.push(backend);
      await backend.start();
      return backend;
    },
    kill(replica) {
      (replica as EtcdFleet).abandon();
      return Promise.resolve();
    },
    outage: () => cluster().stop(),
    restore: () => cluster().start(),
    async close() {
      await Promise.all(opened.map((b) => b.stop().catch(() => undefined)));
    },
  };
}

/** A fresh fleet name per test: tests never see each other's records. */
const fresh = (): string => randomBytes(4).toString("hex");

async function replicas(world: FleetUnderTest, fleet: string, ids: string[]): Promise<FleetBackend[]> {
  const out: FleetBackend[] = [];
  for (const id of ids) out.push(await world.replica(fleet, id));
  return out;
}

function contract(
  name: string,
  skip: string | false,
  make: () => FleetUnderTest & { close(): Promise<void> },
) {
  describe(`fleet backend contract: ${name}`, { skip }, () => {
    let world: FleetUnderTest & { close(): Promise<void> };
    before(() => {
      world = make();
    });
    after(() => world?.close());

    test("membership by lease: members sorted, ready flag, a killed replica drops out, a stopped one at once", async () => {
      const fleet = fresh();
      const [b, a, c] = await replicas(world, fleet, ["b", "a", "c"]);
      assert.deepEqual(
        (await b!.members()).map((m) => [m.replica, m.ready]),
        [
          ["a", false],
          ["b", false],
          ["c", false],
        ],
      );
      await a!.setReady(true);
      assert.deepEqual(
        (await c!.members()).map((m) => m.ready),
        [true, false, false],
      );
      await world.kill(b!);
      await waitFor(
        "the killed replica's lease to expire",
        async () => (await a!.members()).map((m) => m.replica).join() === "a,c",
        EXPIRY_MS,
      );
      await c!.stop();
      assert.deepEqual(
        (await a!.members()).map((m) => m.replica),
        ["a"],
      );
    });

    test("one coordinator per model: the first campaigner leads, the next live one takes over when it dies", async () => {
      const fleet = fresh();
      const [a, b, c] = await replicas(world, fleet, ["a", "b", "c"]);
      assert.equal(await a!.coordinator("m"), undefined);
      assert.equal(await a!.isCoordinator("m"), true);
      assert.equal(await b!.isCoordinator("m"), false);
      assert.equal(await c!.isCoordinator("m"), false);
      assert.equal(await a!.isCoordinator("m"), true, "later calls only read the leadership");
      // Another model has its own election.
      assert.equal(await c!.isCoordinator("other"), true);
      assert.equal(await a!.isCoordinator("other"), false);
      for (const r of [a!, b!, c!]) assert.equal(await r.coordinator("m"), "a");

      await world.kill(a!);
      await waitFor("b to take over m", () => b!.isCoordinator("m"), EXPIRY_MS);
      assert.equal(await c!.isCoordinator("m"), false);
      assert.equal(await c!.coordinator("m"), "b");
      assert.equal(await c!.isCoordinator("other"), true, "a dying leaves c's other model alone");

      await b!.stop();
      assert.equal(await c!.isCoordinator("m"), true, "a replica that leaves hands over at once");
    });

    test("openRollout: once per version and only while no rollout of the model is undecided, one winner of a race", async () => {
      const fleet = fresh();
      const [a, b, c] = await replicas(world, fleet, ["a", "b", "c"]);
      assert.equal(await a!.openRollout("m", "9"), true);
      assert.equal(await b!.openRollout("m", "9"), false, "already open");
      assert.equal(await b!.openRollout("m", "10"), false, "9 is still undecided");
      assert.equal(await b!.openRollout("n", "10"), true, "another model is independent");
      assert.equal(await a!.decide("m", "9", { verdict: "promote", reason: "all passed", by: "a" }), true);
      assert.equal(
        await a!.openRollout("m", "9"),
        false,
        "a version is opened once, even after its decision",
      );

      const raced = await Promise.all(["10", "11", "12"].map((v, i) => [a!, b!, c!][i]!.openRollout("m", v)));
      assert.equal(raced.filter(Boolean).length, 1, `one of three racing opens wins: ${String(raced)}`);

      const rollouts = await c!.rollouts("m");
      assert.deepEqual(
        rollouts.map((r) => r.version),
        ["9", ...["10", "11", "12"].filter((_, i) => raced[i])],
        "ascending by int64 order, not by text",
      );
      const opened = rollouts[1]!;
      assert.equal(opened.model, "m");
      assert.equal(opened.decision, undefined);
      assert.deepEqual(opened.reports, {});
      assert.equal(opened.openedBy, ["a", "b", "c"][raced.indexOf(true)]);
      assert.ok(!Number.isNaN(Date.parse(opened.openedAt)));
    });

    test("decide once: the first decision stands, an override reject replaces a promote once, races have one winner", async () => {
      const fleet = fresh();
      const [a, b, c] = await replicas(world, fleet, ["a", "b", "c"]);
      await a!.openRollout("m", "2");
      assert.equal(await a!.decide("m", "2", { verdict: "promote", reason: "all passed", by: "a" }), true);
      assert.equal(await b!.decide("m", "2", { verdict: "reject", reason: "late", by: "b" }), false);
      assert.equal(await b!.decide("m", "2", { verdict: "promote", reason: "again", by: "b" }), false);
      const rollback = {
        verdict: "reject",
        reason: "operator rollback",
        by: "cli:alice",
        override: true,
      } as const;
      assert.equal(await c!.decide("m", "2", rollback), true, "an operator's rollback replaces a promote");
      assert.equal(await c!.decide("m", "2", rollback), false, "but only once");
      const decided = (await a!.rollouts("m"))[0]!.decision!;
      assert.deepEqual({ ...decided, at: undefined }, { ...rollback, at: undefined });

      // A version the fleet never opened (promoted before fleet mode) can still be rolled back fleet-wide.
      assert.equal(await a!.decide("m", "1", rollback), true);
      assert.equal((await a!.rollouts("m"))[0]!.decision?.verdict, "reject");

      await a!.openRollout("m", "3");
      const verdicts = ["promote", "reject", "reject"] as const;
      const raced = await Promise.all(
        [a!, b!, c!].map((r, i) =>
          r.decide("m", "3", { verdict: verdicts[i]!, reason: `by ${r.replica}`, by: r.replica }),
        ),
      );
      assert.equal(raced.filter(Boolean).length, 1, `one of three racing decisions wins: ${String(raced)}`);
      const winner = [a!, b!, c!][raced.indexOf(true)]!.replica;
      assert.equal((await c!.rollouts("m")).at(-1)!.decision?.by, winner);
    });

    test("markRemoved once, only for a rejected rollout", async () => {
      const fleet = fresh();
      const [a, b] = await replicas(world, fleet, ["a", "b"]);
      await a!.openRollout("m", "5");
      assert.equal(await a!.markRemoved("m", "5", ".rejected-5-x"), false, "undecided");
      assert.equal(await a!.markRemoved("m", "6", ".rejected-6-x"), false, "no such rollout");
      await a!.decide("m", "5", { verdict: "reject", reason: "gate failed on b", by: "a" });
      const raced = await Promise.all(
        [a!, b!].map((r) => r.markRemoved("m", "5", `.rejected-5-${r.replica}`)),
      );
      assert.equal(
        raced.filter(Boolean).length,
        1,
        `one of two racing removals is recorded: ${String(raced)}`,
      );
      assert.equal(await a!.markRemoved("m", "5", "deleted"), false);
      const removed = (await b!.rollouts("m"))[0]!.removed!;
      const by = [a!, b!][raced.indexOf(true)]!.replica;
      assert.deepEqual({ as: removed.as, by: removed.by }, { as: `.rejected-5-${by}`, by });
    });

    test("load slots: at most K of N racing replicas, idempotent, released, freed when the holder dies", async () => {
      const fleet = fresh();
      const ids = ["r0", "r1", "r2", "r3", "r4", "r5"];
      const all = await replicas(world, fleet, ids);
      const won = await Promise.all(all.map((r) => r.acquireLoadSlot("m", "7", 2)));
      assert.equal(won.filter(Boolean).length, 2, `2 of 6 racing replicas get a slot: ${String(won)}`);
      const holders = all.filter((_, i) => won[i]);
      const waiting = all.filter((_, i) => !won[i]);
      const slots = await all[0]!.loadSlots("m");
      assert.deepEqual(
        slots.map((s) => [s.replica, s.version]),
        holders.map((h) => [h.replica, "7"]).sort(),
      );
      assert.equal(await holders[0]!.acquireLoadSlot("m", "7", 2), true, "idempotent for a holder");
      assert.equal(await waiting[0]!.acquireLoadSlot("m", "7", 2), false);
      assert.equal(await waiting[0]!.acquireLoadSlot("other", "7", 2), true, "slots are per model");

      await holders[0]!.releaseLoadSlot("m");
      assert.equal(await waiting[0]!.acquireLoadSlot("m", "7", 2), true);
      assert.equal(await waiting[1]!.acquireLoadSlot("m", "7", 2), false);

      await world.kill(holders[1]!);
      await waitFor(
        "the dead holder's slot to be freed",
        () => waiting[1]!.acquireLoadSlot("m", "7", 2),
        EXPIRY_MS,
      );
      assert.deepEqual(
        (await waiting[1]!.loadSlots("m")).map((s) => s.replica),
        [waiting[0]!.replica, waiting[1]!.replica].sort(),
      );
    });

    test("reports: each replica's latest report on the rollout, by replica id", async () => {
      const fleet = fresh();
      const [a, b] = await replicas(world, fleet, ["a", "b"]);
      await a!.openRollout("m", "3");
      await a!.report("m", "3", "loading", "slot taken");
      await b!.report("m", "3", "loading", "slot taken");
      await b!.report("m", "3", "failed", "gate: NaN in y");
      const reports = (await a!.rollouts("m"))[0]!.reports;
      assert.deepEqual(Object.keys(reports).sort(), ["a", "b"]);
      assert.deepEqual(
        { ...reports.b, at: undefined },
        { replica: "b", phase: "failed", reason: "gate: NaN in y", at: undefined },
      );
      assert.equal(reports.a!.phase, "loading");
    });

    test("intents: stored once under their id, oldest first, ids checked", async () => {
      const fleet = fresh();
      const [a, b] = await replicas(world, fleet, ["a", "b"]);
      const first = await a!.putIntent({
        id: "op-1",
        model: "m",
        kind: "rollback",
        args: { version: "4" },
        by: "cli:alice",
      });
      assert.equal(first.id, "op-1");
      const again = await b!.putIntent({ id: "op-1", model: "m", kind: "promote", args: {}, by: "cli:bob" });
      assert.deepEqual(again, first, "an id is stored once: a repeated put returns the stored intent");
      const second = await b!.putIntent({ model: "m", kind: "pin", args: { version: "3" }, by: "cli:bob" });
      assert.match(second.id, /^[A-Za-z0-9_-]+$/);
      // Oldest first; two put within one millisecond go by id.
      const expected = first.at === second.at ? [first.id, second.id].sort() : [first.id, second.id];
      assert.deepEqual(
        (await a!.intents("m")).map((i) => i.id),
        expected,
      );
      assert.deepEqual(await a!.intents("n"), []);
      await assert.rejects(
        a!.putIntent({ id: "../x", model: "m", kind: "pin", args: {}, by: "cli:alice" }),
        /fleet intent id must match/,
      );
    });

    test("pin state: the last pin or unpin per model, an older one never replaces it, watched", async () => {
      const fleet = fresh();
      const [a, b] = await replicas(world, fleet, ["a", "b"]);
      assert.equal(await a!.getPin("m"), undefined);
      const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 5, 0, s)).toISOString();
      const pin = {
        id: "pin-1",
        model: "m",
        kind: "pin" as const,
        args: { version: "3", reason: "freeze" },
        by: "cli:alice",
        at: at(1),
      };
      const unpin = { id: "unpin-1", model: "m", kind: "unpin" as const, args: {}, by: "cli:bob", at: at(2) };
      assert.equal(await a!.setPin(pin), true);
      assert.deepEqual(await b!.getPin("m"), pin);
      assert.equal(await a!.setPin(pin), true, "the same pin again is harmless");
      const seen: string[] = [];
      const watcher = await b!.watch((model) => seen.push(model));
      assert.equal(await b!.setPin(unpin), true);
      await waitFor("a watch event for setPin", () => seen.includes("m"), 10_000);
      await watcher.close();
      assert.deepEqual(await a!.getPin("m"), unpin);
      assert.equal(await a!.setPin(pin), false, "an older pin never replaces a newer unpin");
      assert.deepEqual(await a!.getPin("m"), unpin);
      assert.equal(await a!.getPin("n"), undefined, "per model");
    });

    test("watch: every change of a model reaches the watcher with the model's name", async () => {
      const fleet = fresh();
      const [a, b] = await replicas(world, fleet, ["a", "b"]);
      const seen: string[] = [];
      const watcher = await b!.watch((model) => seen.push(model));
      const expect = async (what: string, change: () => Promise<unknown>, model: string) => {
        seen.length = 0;
        await change();
        await waitFor(`a watch event for ${what}`, () => seen.includes(model), 10_000);
      };
      await expect("openRollout", () => a!.openRollout("m", "1"), "m");
      await expect("report", () => a!.report("m", "1", "loading", ""), "m");
      await expect("decide", () => a!.decide("m", "1", { verdict: "promote", reason: "", by: "a" }), "m");
      await expect("acquireLoadSlot", () => a!.acquireLoadSlot("n", "1", 1), "n");
      await expect("releaseLoadSlot", () => a!.releaseLoadSlot("n"), "n");
      await expect("putIntent", () => a!.putIntent({ model: "o", kind: "pin", args: {}, by: "cli:x" }), "o");
      await expect("a campaign", () => a!.isCoordinator("p"), "p");
      await watcher.close();
    });

    test("coordination engine unreachable: every call throws FleetUnreachableError, health says so, then recovers", async () => {
      const fleet = fresh();
      const [a, b, c] = await replicas(world, fleet, ["a", "b", "c"]);
      assert.equal(await a!.isCoordinator("m"), true);
      await a!.openRollout("m", "1");
      assert.deepEqual(a!.health(), { reachable: true });
      await c!.watch(() => undefined);

      await world.outage();
      try {
        await assert.rejects(a!.rollouts("m"), FleetUnreachableError);
        await assert.rejects(
          a!.decide("m", "1", { verdict: "promote", reason: "", by: "a" }),
          FleetUnreachableError,
        );
        await assert.rejects(b!.acquireLoadSlot("m", "1", 1), FleetUnreachableError);
        await assert.rejects(b!.report("m", "1", "passed", ""), FleetUnreachableError);
        const health = a!.health();
        assert.equal(health.reachable, false);
        assert.match(health.reason ?? "", /.+/);
        // A daemon stopped (SIGTERM) during the outage must still exit: stop() gives up on the revoke.
        await c!.stop();
      } finally {
        await world.restore();
      }
      await waitFor(
        "calls to work again",
        () =>
          a!.rollouts("m").then(
            () => true,
            () => false,
          ),
        30_000,
      );
      assert.deepEqual(a!.health(), { reachable: true });
      assert.equal((await a!.rollouts("m"))[0]!.decision, undefined, "nothing was decided meanwhile");
      await waitFor(
        "both replicas to be members again",
        async () => (await b!.members()).length === 2,
        30_000,
      );
      assert.equal(await b!.decide("m", "1", { verdict: "promote", reason: "", by: "b" }), true);
      await waitFor(
        "one coordinator again",
        async () => (await a!.isCoordinator("m")) !== (await b!.isCoordinator("m")),
        30_000,
      );
    });
  });
}

contract("memory", false, memoryUnderTest);

describe("etcd with TLS", { skip: etcdSkip() || toolSkip("openssl", "openssl") }, () => {
  test("a replica joins over TLS with the CA and a client certificate; without them it cannot reach etcd", async (t) => {
    const secure = await startEtcdCluster(t, 1, { tls: true });
    const base = {
      endpoints: secure.endpoints,
      prefix: `/test-${fresh()}/`,
      callTimeoutMs: 2000,
      dialTimeoutMs: 2000,
    };
    const a = await openEtcdFleet({ ...base, replica: "a", tls: secure.tls });
    t.after(() => a.stop());
    await a.start();
    assert.equal(await a.openRollout("m", "1"), true);
    assert.deepEqual(
      (await a.members()).map((m) => m.replica),
      ["a"],
    );

    const noClientCert = await openEtcdFleet({ ...base, replica: "b", tls: { ca: secure.tls!.ca } });
    t.after(() => noClientCert.stop());
    await assert.rejects(noClientCert.start(), FleetUnreachableError);
    assert.equal(noClientCert.health().reachable, false);

    await assert.rejects(
      openEtcdFleet({ ...base, replica: "c", tls: { ca: `${secure.tls!.ca}.missing` } }),
      /etcd TLS: cannot read tls\.ca .*\.missing/,
    );
  });
});

let cluster: EtcdCluster | undefined;
const skip = etcdSkip();
describe("etcd cluster", { skip }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  before(async () => {
    cluster = await startEtcdCluster({ after: (fn) => cleanups.push(fn) }, 3);
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  contract("etcd (3 members)", skip, () => etcdUnderTest(() => cluster!));

  test("a lease lost while etcd was away longer than its TTL is re-joined by itself", async (t) => {
    const world = etcdUnderTest(() => cluster!);
    t.after(() => world.close());
    const fleet = fresh();
    const [a, b] = (await replicas(world, fleet, ["a", "b"])) as EtcdFleet[];
    assert.equal(await a!.isCoordinator("m"), true);
    await a!.setReady(true);
    const before = a!.currentLease;
    await world.outage();
    try {
      // The client gives a lease up after twice its TTL without a keep-alive.
      await waitFor("the lease to be given up", () => a!.currentLease === undefined, 20_000);
      assert.equal(a!.health().reachable, false);
    } finally {
      await world.restore();
    }
    await waitFor("a new lease", () => a!.currentLease !== undefined, 20_000);
    assert.notEqual(a!.currentLease, before);
    await waitFor("both members again", async () => (await b!.members()).length === 2, 20_000);
    const member = (await b!.members()).find((m) => m.replica === "a");
    assert.equal(member?.ready, true, "the replica re-joins as it was: its own state did not change");
    await waitFor(
      "one coordinator again",
      async () => [await a!.isCoordinator("m"), await b!.isCoordinator("m")].filter(Boolean).length === 1,
      20_000,
    );
    assert.deepEqual(a!.health(), { reachable: true });
  });

  test("one member of three killed: the fleet still works, and the member comes back", async (t) => {
    const world = etcdUnderTest(() => cluster!);
    t.after(() => world.close());
    const fleet = fresh();
    const [a, b, c] = await replicas(world, fleet, ["a", "b", "c"]);
    await cluster!.killMember(0);
    try {
      assert.equal(await a!.isCoordinator("m"), true);
      assert.equal(await b!.isCoordinator("m"), false);
      assert.equal(await a!.openRollout("m", "2"), true);
      const won = await Promise.all([a!, b!, c!].map((r) => r.acquireLoadSlot("m", "2", 1)));
      assert.equal(won.filter(Boolean).length, 1);
      await c!.report("m", "2", "passed", "gate passed");
      assert.equal(await b!.decide("m", "2", { verdict: "promote", reason: "all passed", by: "b" }), true);
      assert.equal((await c!.members()).length, 3);
      assert.equal((await c!.rollouts("m"))[0]!.reports.c?.phase, "passed");
      assert.deepEqual(a!.health(), { reachable: true });
    } finally {
      await cluster!.startMember(0);
    }
    assert.equal(await cluster!.healthy(0), true);
  });
});
