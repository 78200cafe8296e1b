/**
 * A real etcd cluster (1 or 3 members) on 127.0.0.1 for fleet tests: free ports found by binding port 0, data in a
 * temp dir, members killed (SIGKILL) and restarted, the whole cluster stopped and started again on the same ports
 * and data. Everything (processes, temp dirs) is removed by the cleanup registered on the test context.
 * `etcdSkip()` skips with a stated reason when the `etcd` binary (Debian: etcd-server) is missing, except under
 * CI=true, where that is a failure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./emulator-harness.js";
import { toolSkip } from "./fixtures.js";
import { makePki, type Pki } from "./pki.js";

export function etcdSkip(): string | false {
  return toolSkip("etcd", "etcd-server");
}

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  process: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  /** The last few KB of its output, for failure messages. */
  log: string;
}

/** PEM file paths of a private CA, and a client certificate and key it signed. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdCluster {
  /** `127.0.0.1:<port>` of every member, in member order (`https://127.0.0.1:<port>` with TLS). */
  readonly endpoints: string[];
  /** With `tls: true`: what a client needs (etcd then requires a client certificate). */
  readonly tls: ClientTls | undefined;
  /** SIGKILLs member `index` and waits for it to exit. */
  killMember(index: number): Promise<void>;
  /** Starts member `index` again on its ports and data; waits until the cluster is healthy. */
  startMember(index: number): Promise<void>;
  /** Stops every member (SIGKILL: as abrupt as an outage) and waits for them to exit. */
  stop(): Promise<void>;
  /** Starts every stopped member again and waits until the cluster is healthy. */
  start(): Promise<void>;
  /** Whether `127.0.0.1:<clientPort>` of member `index` answers /health with true. */
  healthy(index: number): Promise<boolean>;
  /** The members' recent output (for assertion messages). */
  logs(): string;
  cleanup(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port from listen(0)");
  return address.port;
}

function httpsHealth(port: number, tls: ClientTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/health",
        ca: readFileSync(tls.ca),
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
        timeout: 2000,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/**
 * Starts an etcd cluster of `size` members and registers its cleanup with `t.after`. With `tls`, clients must
 * speak TLS and show a certificate of the cluster's private CA (peers stay plain http on loopback).
 */
export async function startEtcdCluster(
  t: { after(fn: () => Promise<void> | void): void },
  size: 1 | 3 = 3,
  options: { tls?: boolean } = {},
): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), "tfs-etcd-"));
  const pki: Pki | undefined = options.tls ? makePki(root, "IP:127.0.0.1") : undefined;
  const tls: ClientTls | undefined = pki && { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
  const scheme = tls ? "https" : "http";
  const members: Member[] = [];
  for (let i = 0; i < size; i++)
    members.push({
      name: `etcd${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: join(root, `etcd${i}`),
      process: undefined,
      exited: undefined,
      log: "",
    });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");

  const launch = (member: Member): void => {
    const client = `${scheme}://127.0.0.1:${member.clientPort}`;
    const peer = `http://127.0.0.1:${member.peerPort}`;
    const child = spawn(
      "etcd",
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${initialCluster}`,
        "--initial-cluster-state=new",
        `--initial-cluster-token=${root}`,
        // Loopback on a busy 2-core machine: elections fast enough for tests, slow enough not to flap.
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        ...(pki
          ? [
              `--cert-file=${pki.serverCert}`,
              `--key-file=${pki.serverKey}`,
              `--trusted-ca-file=${pki.ca}`,
              "--client-cert-auth",
            ]
          : []),
        "--logger=zap",
        "--log-level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (chunk: Buffer): void => {
      member.log = (member.log + chunk.toString()).slice(-4000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    member.process = child;
    member.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  };

  const halt = async (member: Member): Promise<void> => {
    const child = member.process;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await member.exited;
    member.process = undefined;
  };

  const healthy = async (index: number): Promise<boolean> => {
    const member = members[index]!;
    try {
      const body = tls
        ? await httpsHealth(member.clientPort, tls)
        : await (
            await fetch(`http://127.0.0.1:${member.clientPort}/health`, { signal: AbortSignal.timeout(2000) })
          ).text();
      return (JSON.parse(body) as { health?: string }).health === "true";
    } catch {
      return false;
    }
  };

  const waitHealthy = async (): Promise<void> => {
    const running = members.map((m, i) => (m.process ? i : -1)).filter((i) => i >= 0);
    await waitFor(
      "etcd cluster healthy",
      async () => (await Promise.all(running.map(healthy))).every(Boolean),
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${cluster.logs()}`);
    });
  };

  const cluster: EtcdCluster = {
    endpoints: members.map((m) => (tls ? `https://127.0.0.1:${m.clientPort}` : `127.0.0.1:${m.clientPort}`)),
    tls,
    async killMember(index) {
      await halt(members[index]!);
    },
    async startMember(index) {
      const member = members[index]!;
      if (!member.process) launch(member);
      await waitHealthy();
    },
    async stop() {
      await Promise.all(members.map(halt));
    },
    async start() {
      for (const member of members) if (!member.process) launch(member);
      await waitHealthy();
    },
    healthy,
    logs: () => members.map((m) => `--- ${m.name}\n${m.log}`).join("\n"),
    async cleanup() {
      await Promise.all(members.map(halt));
      rmSync(root, { recursive: true, force: true });
    },
  };
  t.after(() => cluster.cleanup());
  try {
    await cluster.start();
  } catch (error) {
    await cluster.cleanup();
    throw error;
  }
  return cluster;
}
