import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { Command } from "commander";
import { addDaemonConfigOptions, daemonConfigFlags, loadDaemonConfig } from "../src/daemon-config/index.js";

type Json = Record<string, unknown>;

const DIR = new URL("../deploy/kubernetes/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR), "utf8");

function only(name: string): Json {
  const docs = parseAllDocuments(read(name));
  assert.equal(docs.length, 1, `${name}: one document`);
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${name}: YAML errors`);
  return docs[0]!.toJS() as Json;
}

// Minimal typed views of what the tests read.
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  restartPolicy?: string;
  ports: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext: Json & { capabilities: { drop: string[] }; seccompProfile?: { type: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface PodSpec {
  securityContext: Json & { seccompProfile: { type: string } };
  initContainers: Container[];
  containers: Container[];
  volumes: (Json & { name: string; configMap?: { name: string } })[];
}

const deployment = only("deployment.yaml") as Json & { kind: string; spec: { template: { spec: PodSpec } } };
const pod = deployment.spec.template.spec;
const sidecar = pod.initContainers.find((c) => c.name === "tfs-rollout")!;
const serving = pod.containers.find((c) => c.name === "tensorflow-serving")!;

test("kustomization lists every manifest of the folder", () => {
  const kustomization = only("kustomization.yaml") as { resources: string[] };
  assert.deepEqual(kustomization.resources.sort(), ["deployment.yaml", "tfs-rollout-config.yaml"]);
});

test("tfs-rollout is a native sidecar: an init container with restartPolicy Always", () => {
  assert.equal(deployment.kind, "Deployment");
  assert.ok(sidecar);
  assert.equal(sidecar.restartPolicy, "Always");
  assert.equal(pod.containers.length, 1);
});

test("TF Serving runs with the flags the daemon needs, and without config-file polling", () => {
  assert.ok(serving.args.includes("--model_config_file=/etc/tensorflow-serving/models.config"));
  assert.ok(serving.args.includes("--allow_version_labels_for_unavailable_models=true"));
  assert.ok(serving.args.includes("--port=8500"));
  assert.ok(!serving.args.some((a) => a.startsWith("--model_config_file_poll_wait_seconds")));
  assert.match(read("deployment.yaml"), /--model_config_file_poll_wait_seconds is deliberately left at 0/);
});

test("the daemon config reaches TF Serving on loopback and edits the models.config TF Serving reads", () => {
  const configMap = only("tfs-rollout-config.yaml") as {
    kind: string;
    metadata: { name: string };
    data: Json;
  };
  assert.equal(configMap.kind, "ConfigMap");
  const config = parse(configMap.data["config.yaml"] as string) as {
    model_config_file: string;
    state_dir: string;
    tf_serving: { grpc_address: string };
  };
  assert.equal(config.tf_serving.grpc_address, "127.0.0.1:8500");
  assert.ok(serving.args.includes(`--model_config_file=${config.model_config_file}`));
  const mountOf = (c: Container, path: string) =>
    c.volumeMounts
      .filter((m) => path.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  assert.equal(
    mountOf(sidecar, config.model_config_file)?.readOnly,
    undefined,
    "sidecar writes models.config",
  );
  assert.equal(
    mountOf(sidecar, config.model_config_file)?.name,
    mountOf(serving, config.model_config_file)?.name,
  );
  assert.ok(
    mountOf(sidecar, `${config.state_dir}/journal`)?.subPath,
    "state dir is persistent, not the root fs",
  );
  const configVolume = pod.volumes.find((v) => v.configMap?.name === configMap.metadata.name);
  assert.ok(configVolume);
  assert.ok(
    sidecar.volumeMounts.some(
      (m) => m.name === configVolume.name && m.mountPath === "/etc/tfs-rollout" && m.readOnly,
    ),
  );
  assert.deepEqual(sidecar.args.slice(0, 3), ["daemon", "--config", "/etc/tfs-rollout/config.yaml"]);
});

test("both containers share the model volume; only the sidecar may write it", () => {
  const models = (c: Container) => c.volumeMounts.find((m) => m.mountPath === "/models");
  assert.equal(models(sidecar)?.name, models(serving)?.name);
  assert.equal(models(sidecar)?.readOnly, undefined);
  assert.equal(models(serving)?.readOnly, true);
});

test("sidecar probes: startup and liveness on /livez (not TF Serving), readiness on /readyz, on a pod-wide address", () => {
  const httpIndex = sidecar.args.indexOf("--http");
  assert.equal(sidecar.args[httpIndex + 1], "0.0.0.0:9464");
  const http = sidecar.ports.find((p) => p.containerPort === 9464)!;
  for (const [probe, path] of [
    [sidecar.startupProbe, "/livez"],
    [sidecar.livenessProbe, "/livez"],
    [sidecar.readinessProbe, "/readyz"],
  ] as const) {
    assert.equal(probe?.httpGet?.path, path);
    assert.equal(probe?.httpGet?.port, http.name);
  }
});

test("every container is non-root, read-only, without capabilities or privilege escalation, seccomp RuntimeDefault", () => {
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  for (const container of [...pod.initContainers, ...pod.containers]) {
    const sc = container.securityContext;
    assert.equal(sc.runAsNonRoot, true, container.name);
    assert.equal(sc.readOnlyRootFilesystem, true, container.name);
    assert.equal(sc.allowPrivilegeEscalation, false, container.name);
    assert.deepEqual(sc.capabilities.drop, ["ALL"], container.name);
    assert.equal(sc.seccompProfile?.type, "RuntimeDefault", container.name);
    assert.equal(sc.privileged, undefined, container.name);
  }
});

test("the ConfigMap's config.yaml loads with the daemon's own config loader", async () => {
  const configMap = only("tfs-rollout-config.yaml") as { data: Record<string, string> };
  const file = "/etc/tfs-rollout/config.yaml";
  const reader = {
    cwd: "/",
    read: async (path: string) => (path === file ? configMap.data["config.yaml"] : undefined),
  };
  const config = await loadDaemonConfig({ config: file }, {}, reader);
  assert.equal(config.model_config_file, "/etc/tensorflow-serving/models.config");
  assert.equal(config.state_dir, "/var/lib/tfs-rollout");
});

test("the daemon accepts the sidecar's args: --http reaches http.listen on the port the probes use", async () => {
  const command = addDaemonConfigOptions(new Command("daemon"), { once: true }).exitOverride();
  assert.equal(sidecar.args[0], "daemon");
  command.parse(sidecar.args.slice(1), { from: "user" });
  const configMap = only("tfs-rollout-config.yaml") as { data: Record<string, string> };
  const file = "/etc/tfs-rollout/config.yaml";
  const reader = {
    cwd: "/",
    read: async (path: string) => (path === file ? configMap.data["config.yaml"] : undefined),
  };
  const config = await loadDaemonConfig(daemonConfigFlags(command.opts()), {}, reader);
  assert.equal(config.http.listen, "0.0.0.0:9464");
  const probePort = sidecar.ports.find((p) => p.name === sidecar.livenessProbe?.httpGet?.port)?.containerPort;
  assert.equal(Number(config.http.listen?.split(":").pop()), probePort);
});
