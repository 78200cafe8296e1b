import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDaemonConfig } from "../src/daemon-config/load.js";
import { DaemonConfigError } from "../src/daemon-config/problems.js";
import { memoryReader } from "./helpers/daemon-config-reader.js";

const FILE = "/etc/tfs-rollout/config.yaml";

const load = (yaml: string) =>
  loadDaemonConfig({ config: FILE, modelConfigFile: "/m" }, {}, memoryReader({ [FILE]: yaml }));

async function problems(
  yaml: string,
): Promise<{ where?: string; path: string; message: string; hint?: string }[]> {
  try {
    await load(yaml);
  } catch (error) {
    assert.ok(error instanceof DaemonConfigError, String(error));
    return error.problems.map((p) => ({ ...p, path: String(p.path) }));
  }
  assert.fail("the config loaded without error");
}

test("coordination defaults to local, one loading replica at a time, policy all", async () => {
  const config = await load("");
  assert.deepEqual(config.coordination, {
    backend: "local",
    etcd: { endpoints: [], prefix: "/tfs-rollout/", lease_ttl: 10_000, dial_timeout: 5000 },
    fleet: { max_loading: 1, policy: "all" },
  });
});

test("an etcd fleet: endpoints, prefix, durations, TLS paths relative to the file, quorum", async () => {
  const config = await load(
    [
      "coordination:",
      "  backend: etcd",
      "  replica: tfs-0",
      "  etcd:",
      "    endpoints: [etcd-0:2379, 'https://etcd-1.example:2379']",
      "    prefix: /fleet-a/",
      "    lease_ttl: 3s",
      "    dial_timeout: 500ms",
      "    tls: { ca: pki/ca.pem, cert: /pki/c.pem, key: /pki/k.pem }",
      "  fleet: { max_loading: 2, policy: quorum, quorum: 2 }",
    ].join("\n"),
  );
  assert.deepEqual(config.coordination, {
    backend: "etcd",
    replica: "tfs-0",
    etcd: {
      endpoints: ["etcd-0:2379", "https://etcd-1.example:2379"],
      prefix: "/fleet-a/",
      lease_ttl: 3000,
      dial_timeout: 500,
      tls: { ca: "/etc/tfs-rollout/pki/ca.pem", cert: "/pki/c.pem", key: "/pki/k.pem" },
    },
    fleet: { max_loading: 2, policy: "quorum", quorum: 2 },
  });
});

test("backend etcd without endpoints is an error that says what to set", async () => {
  const [problem, ...rest] = await problems("coordination:\n  backend: etcd\n");
  assert.equal(rest.length, 0);
  assert.equal(problem?.path, "coordination.etcd.endpoints");
  assert.match(problem?.message ?? "", /backend etcd needs the etcd cluster's client endpoints/);
  assert.match(problem?.hint ?? "", /coordination\.etcd\.endpoints: \[etcd-0:2379/);
});

test("policy quorum needs quorum, and quorum is at least 1", async () => {
  const missing = await problems("coordination:\n  fleet: { policy: quorum }\n");
  assert.deepEqual(
    missing.map((p) => [p.path, p.message]),
    [
      [
        "coordination.fleet.quorum",
        "is not set: policy quorum needs the number of replicas whose pass promotes a version",
      ],
    ],
  );
  const zero = await problems("coordination:\n  fleet: { policy: quorum, quorum: 0 }\n");
  assert.equal(zero[0]?.path, "coordination.fleet.quorum");
  assert.match(zero[0]?.message ?? "", /must be at least 1/);
  assert.match(zero[0]?.where ?? "", /config\.yaml:2:/);
});

test("bad values are reported at their key: backend, endpoint, replica id, max_loading, lease_ttl, TLS pairs", async () => {
  const found = await problems(
    [
      "coordination:",
      "  backend: zookeeper",
      "  replica: 'tfs 0'",
      "  etcd:",
      "    endpoints: [etcd-0]",
      "    lease_ttl: 10ms",
      "  fleet: { max_loading: 0 }",
    ].join("\n"),
  );
  assert.deepEqual(found.map((p) => p.path).sort(), [
    "coordination.backend",
    "coordination.etcd.endpoints[0]",
    "coordination.etcd.lease_ttl",
    "coordination.fleet.max_loading",
    "coordination.replica",
  ]);
  assert.match(found.find((p) => p.path === "coordination.etcd.endpoints[0]")?.message ?? "", /HOST:PORT/);
  const tls = await problems(
    "coordination:\n  backend: etcd\n  etcd: { endpoints: ['e:2379'], tls: { cert: /c.pem } }\n",
  );
  assert.deepEqual(tls.map((p) => p.path).sort(), ["coordination.etcd.tls.ca", "coordination.etcd.tls.cert"]);
});

test("a misspelt coordination key is an error with a suggestion", async () => {
  const [problem] = await problems("coordination:\n  fleet: { max_loadng: 2 }\n");
  assert.equal(problem?.path, "coordination.fleet.max_loadng");
  assert.match(`${problem?.message} ${problem?.hint}`, /max_loading/);
});
