// Loopback HTTP helpers for the ops end-to-end tests: the daemon's ops server address, GETs, Prometheus samples
// and webhook receivers (good, hanging, failing).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./emulator-harness.js";
import type { DaemonProcess } from "./rollout-world.js";
import type { WebhookPayload } from "../../src/ops/events.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from "../../src/ops/signature.js";

/** The bound HOST:PORT from the daemon's "ops server listening" log event. */
export async function opsAddress(daemon: DaemonProcess, timeoutMs = 30_000): Promise<string> {
  let address: string | undefined;
  await waitFor(
    "ops server listening",
    () => {
      const event = daemon.events().find((e) => e.msg === "ops server listening");
      address = typeof event?.address === "string" ? event.address : undefined;
      return address !== undefined;
    },
    timeoutMs,
  );
  return address!;
}

export async function get(url: string): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text(), type: response.headers.get("content-type") };
}

/** The value of one Prometheus sample (`name{labels}`), labels given as an exact subset; undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/** Sum of every sample of `name` whose labels include `labels`. */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = sample(line, name, labels);
    if (value !== undefined) sum += value;
  }
  return sum;
}

export interface Receiver {
  url: string;
  /** Verified payloads, in arrival order. */
  received: WebhookPayload[];
  /** Requests seen (any outcome). */
  requests: number;
  /** Signature problems seen (should stay empty). */
  rejected: string[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1:0. "ok" verifies the HMAC with src/ops/signature.ts and answers 204; "hang"
 * never answers; "fail" answers 500.
 */
export async function startReceiver(mode: "ok" | "hang" | "fail", secret?: string): Promise<Receiver> {
  const receiver: Omit<Receiver, "url" | "close"> = { received: [], requests: 0, rejected: [] };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      receiver.requests++;
      if (mode === "hang") return;
      if (mode === "fail") {
        response.statusCode = 500;
        response.end("broken receiver");
        return;
      }
      const body = Buffer.concat(chunks);
      if (secret !== undefined) {
        const verdict = verifySignature({
          secret,
          body,
          signature: header(request, SIGNATURE_HEADER),
          timestamp: header(request, TIMESTAMP_HEADER),
        });
        if (!verdict.ok) {
          receiver.rejected.push(verdict.reason);
          response.statusCode = 401;
          response.end();
          return;
        }
      }
      receiver.received.push(JSON.parse(body.toString("utf8")) as WebhookPayload);
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Waits until the receiver holds an event of that type (and version, when given); returns it. */
export async function eventArrives(
  receiver: Receiver,
  type: string,
  version?: string,
  timeoutMs = 30_000,
): Promise<WebhookPayload> {
  const find = () =>
    receiver.received.find((e) => e.type === type && (version === undefined || e.version === version));
  await waitFor(`webhook ${type}${version ? ` ${version}` : ""}`, () => find() !== undefined, timeoutMs);
  return find()!;
}
