// The emulator's control endpoint: lets tests see what the daemon sent and inject failures.
//
// Loopback only: it binds 127.0.0.1 (or ::1) and answers 403 to any other remote address. JSON in and out;
// errors are {"error": "<what>", "hint": "<how to fix>"} with 400 (bad body or query), 403, 404 or 405.
//
//   GET    /calls                 the call log, oldest first: {"calls": [CallRecord...], "dropped": n}.
//                                  Filters (query string, all optional, combined with AND): transport=grpc|rest,
//                                  method=Predict, model=m, version=123, label=stable, code=NOT_FOUND, since=<ms>.
//                                  CallRecord: {at, transport, method, model?, version?, label?, config?, code}.
//   DELETE /calls                 clears the log → {"cleared": n}
//   GET    /faults                current faults: {"unavailable": {until, remaining_ms, rest} | null,
//                                  "next_reload": {delay_ms?, fail?} | null, "holds": [{model, version}]}
//   DELETE /faults                clears every fault and releases every hold → the /faults view
//   POST   /faults/unavailable    {"seconds": 10, "rest": "503" | "reset"} — gRPC answers UNAVAILABLE and REST
//                                  answers 503 (or resets connections) for that long; {"seconds": 0} ends it;
//                                  "only": "grpc" | "rest" takes down that listener alone (a split outage)
//   POST   /faults/reload         {"delay_ms": 500, "fail": {"code": "INTERNAL", "message": "..."}} — one-shot:
//                                  the next HandleReloadConfigRequest waits delay_ms, then fails with `fail`
//   DELETE /faults/reload         disarms it
//   POST   /faults/hold           {"model": "m", "version": 124} — that version stays LOADING until released
//   DELETE /faults/hold           {"model": "m", "version": 124} (or ?model=m&version=124) — releases it;
//                                  404 if it was not held
// Every successful fault change answers with the /faults view.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenHttp, type ListeningHttpServer } from "./http-listen.js";
import { z } from "zod";
import type { CallLog, CallQuery } from "./call-log.js";
import { ERROR_CODE_NAMES, type Faults } from "./faults.js";

export interface ControlServerOptions {
  faults: Faults;
  callLog: CallLog;
  /** Default 0 (any free port). */
  port?: number;
  /** A loopback address; default 127.0.0.1. */
  host?: string;
}

export type ControlServer = ListeningHttpServer;

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

const unavailableSchema = z.strictObject({
  seconds: z.number().finite().nonnegative(),
  rest: z.enum(["503", "reset"]).optional(),
  only: z.enum(["grpc", "rest"]).optional(),
});

const reloadSchema = z.strictObject({
  delay_ms: z.number().finite().nonnegative().optional(),
  fail: z
    .strictObject({
      code: z.enum(ERROR_CODE_NAMES),
      message: z.string(),
    })
    .optional(),
});

const versionSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be digits")]);
const holdSchema = z.strictObject({ model: z.string().min(1), version: versionSchema });

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string, hint: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`,
  );
  throw new ControlError(400, `invalid ${what}: ${problems.join("; ")}`, hint);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ControlError(
      400,
      `request body is not JSON: ${(error as Error).message}`,
      "send a JSON object",
    );
  }
}

const QUERY_KEYS = ["transport", "method", "model", "version", "label", "code", "since"] as const;

function callQuery(params: URLSearchParams): CallQuery {
  const query: CallQuery = {};
  for (const key of params.keys())
    if (!(QUERY_KEYS as readonly string[]).includes(key))
      throw new ControlError(
        400,
        `unknown filter ${JSON.stringify(key)}`,
        `filters: ${QUERY_KEYS.join(", ")}`,
      );
  const transport = params.get("transport");
  if (transport !== null) {
    if (transport !== "grpc" && transport !== "rest")
      throw new ControlError(400, `transport must be grpc or rest, got ${JSON.stringify(transport)}`);
    query.transport = transport;
  }
  for (const key of ["method", "model", "version", "label", "code"] as const) {
    const value = params.get(key);
    if (value !== null) query[key] = value;
  }
  const since = params.get("since");
  if (since !== null) {
    if (!/^\d+(\.\d+)?$/.test(since))
      throw new ControlError(400, `since must be a time in ms, got ${JSON.stringify(since)}`);
    query.since = Number(since);
  }
  return query;
}

function route(
  options: ControlServerOptions,
  method: string,
  url: URL,
  body: () => Promise<unknown>,
): Promise<unknown> | unknown {
  const { faults, callLog } = options;
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const allow = (...methods: string[]): void => {
    if (!methods.includes(method))
      throw new ControlError(405, `${method} is not allowed on ${path}`, `use ${methods.join(" or ")}`);
  };
  switch (path) {
    case "/calls":
      allow("GET", "DELETE");
      if (method === "GET")
        return { calls: callLog.list(callQuery(url.searchParams)), dropped: callLog.dropped };
      {
        const cleared = callLog.size;
        callLog.clear();
        return { cleared };
      }
    case "/faults":
      allow("GET", "DELETE");
      if (method === "DELETE") faults.reset();
      return faults.snapshot();
    case "/faults/unavailable":
      allow("POST");
      return body().then((json) => {
        const { seconds, rest, only } = parseWith(
          unavailableSchema,
          json,
          "unavailable fault",
          'send {"seconds": 10}',
        );
        faults.makeUnavailable(seconds, { ...(rest ? { rest } : {}), ...(only ? { only } : {}) });
        return faults.snapshot();
      });
    case "/faults/reload":
      allow("POST", "DELETE");
      if (method === "DELETE") {
        faults.clearNextReload();
        return faults.snapshot();
      }
      return body().then((json) => {
        const fault = parseWith(
          reloadSchema,
          json,
          "reload fault",
          'send {"delay_ms": 500} and/or {"fail": {"code": "INTERNAL", "message": "..."}}',
        );
        faults.setNextReload({
          ...(fault.delay_ms !== undefined ? { delayMs: fault.delay_ms } : {}),
          ...(fault.fail ? { fail: fault.fail } : {}),
        });
        return faults.snapshot();
      });
    case "/faults/hold":
      allow("POST", "DELETE");
      return body().then((json) => {
        const fromQuery = url.searchParams.has("model")
          ? { model: url.searchParams.get("model"), version: url.searchParams.get("version") ?? undefined }
          : json;
        const { model, version } = parseWith(
          holdSchema,
          fromQuery,
          "hold",
          'send {"model": "m", "version": 124}',
        );
        if (method === "POST") faults.hold(model, version);
        else if (!faults.release(model, version))
          throw new ControlError(
            404,
            `version ${version} of model ${model} is not held`,
            "GET /faults lists the holds",
          );
        return faults.snapshot();
      });
    default:
      throw new ControlError(
        404,
        `no control endpoint ${path}`,
        "see the endpoint list in src/emulator/control-server.ts",
      );
  }
}

/** Recorded configs may hold bytes (Buffer → base64) and int64s as bigint (→ decimal string). */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  const buffer = value as { type?: unknown; data?: unknown };
  if (buffer && buffer.type === "Buffer" && Array.isArray(buffer.data))
    return Buffer.from(buffer.data as number[]).toString("base64");
  return value;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** Starts the control endpoint on a loopback address. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host))
    throw new RangeError(
      `the control endpoint binds loopback addresses only (127.0.0.1 or ::1), not ${host}`,
    );
  const server: Server = createServer((req, res) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      send(res, 403, { error: `control endpoint refuses non-loopback client ${req.socket.remoteAddress}` });
      req.resume();
      return;
    }
    const url = new URL(req.url ?? "/", "http://control");
    Promise.resolve()
      .then(() => route(options, req.method ?? "GET", url, () => readJson(req)))
      .then(
        (value) => send(res, 200, value),
        (error: unknown) => {
          if (error instanceof ControlError)
            send(res, error.status, { error: error.message, ...(error.hint ? { hint: error.hint } : {}) });
          else send(res, 400, { error: (error as Error).message ?? String(error) });
        },
      );
  });
  return listenHttp(server, host, options.port ?? 0);
}
