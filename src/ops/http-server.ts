import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { RolloutError } from "../errors.js";
import { formatListenAddress, type ListenAddress } from "./listen-address.js";

export interface CheckResult {
  ok: boolean;
  /** Why not (or notes when ok); one line each. */
  reasons?: string[];
}

export type HealthCheck = () => CheckResult | Promise<CheckResult>;

export interface MetricsSource {
  readonly contentType: string;
  expose(): Promise<string>;
}

export interface OpsServerOptions {
  listen: ListenAddress;
  /** Process alive and the main loop turning (see livenessFromHeartbeat); must not depend on TF Serving. */
  livez: HealthCheck;
  /** Config loaded and TF Serving reachable. */
  readyz: HealthCheck;
  metrics: MetricsSource;
  /** A check that has not answered by then counts as failed (default 2000 ms; below kubelet's 1 s default x2). */
  checkTimeoutMs?: number;
}

export interface OpsServer {
  readonly host: string;
  /** The bound port (the real one when listen.port was 0). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The daemon's operations port: GET/HEAD /livez, /readyz (200 "ok" or 503 with one reason per line) and
 * /metrics (Prometheus text); 404 for any other path, 405 for other methods.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const routes: Record<string, (response: ServerResponse) => Promise<void>> = {
    "/livez": (response) => answerCheck(response, options.livez, "livez", timeoutMs),
    "/readyz": (response) => answerCheck(response, options.readyz, "readyz", timeoutMs),
    "/metrics": (response) => answerMetrics(response, options.metrics),
  };
  const server = createServer((request, response) => {
    void route(request, response, routes).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, `internal error: ${messageOf(error)}\n`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, options.listen)));
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  server.on("error", () => undefined);
  const port = (server.address() as AddressInfo).port;
  const bound = formatListenAddress({ host: options.listen.host, port });
  return {
    host: options.listen.host,
    port,
    url: `http://${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  routes: Record<string, (response: ServerResponse) => Promise<void>>,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://ops").pathname;
  const handler = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (handler === undefined)
    return send(response, 404, `not found: ${path} (try /livez, /readyz or /metrics)\n`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    return send(response, 405, `method ${request.method} not allowed on ${path}\n`);
  }
  await handler(response);
}

async function answerCheck(response: ServerResponse, check: HealthCheck, name: string, timeoutMs: number) {
  const result = await runCheck(check, name, timeoutMs);
  const lines = result.reasons ?? [];
  const head = result.ok ? "ok" : `${name} failed`;
  send(response, result.ok ? 200 : 503, [head, ...lines.map((line) => `- ${line}`)].join("\n") + "\n");
}

async function runCheck(check: HealthCheck, name: string, timeoutMs: number): Promise<CheckResult> {
  const timer = new AbortController();
  try {
    const timedOut = delay(timeoutMs, undefined, { signal: timer.signal }).then((): CheckResult => ({
      ok: false,
      reasons: [`${name} check did not answer within ${timeoutMs} ms`],
    }));
    return await Promise.race([Promise.resolve().then(check), timedOut]);
  } catch (error) {
    return { ok: false, reasons: [`${name} check threw: ${messageOf(error)}`] };
  } finally {
    timer.abort();
  }
}

async function answerMetrics(response: ServerResponse, metrics: MetricsSource) {
  const text = await metrics.expose();
  response.setHeader("content-type", metrics.contentType);
  response.statusCode = 200;
  response.end(text);
}

function send(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader("content-type", "text/plain; charset=utf-8");
  response.setHeader("cache-control", "no-store");
  response.end(text);
}

function listenError(error: NodeJS.ErrnoException, listen: ListenAddress): RolloutError {
  const where = formatListenAddress(listen);
  const hints: Record<string, string> = {
    EADDRINUSE:
      "another process uses this port (ss -ltnp shows which); pick another port with --http HOST:PORT",
    EACCES: "ports below 1024 need privileges; use a port above 1024",
    EADDRNOTAVAIL: "this machine has no such address; use 127.0.0.1 or 0.0.0.0",
    ENOTFOUND: "the host name does not resolve; use an IP address",
  };
  return new RolloutError(`cannot listen for the ops HTTP server: ${error.message}`, {
    where,
    hint: hints[error.code ?? ""] ?? "check the --http listen address",
    cause: error,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
