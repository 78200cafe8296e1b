// The emulator's REST front end: TF Serving's REST API (facts §5) on node:http, on top of ServingApi.
// Every call is recorded in the CallLog; Faults can make it answer 503 (or drop connections).

import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import { listenHttp, type ListeningHttpServer } from "./http-listen.js";
import type { CallLog } from "./call-log.js";
import type { Faults } from "./faults.js";
import { regressOrClassify } from "./rest-classify.js";
import { errorJson } from "./rest-json-write.js";
import { predictRequestFromJson, predictResponseJson } from "./rest-predict-json.js";
import { httpStatusOf, modelMetadataJson, modelStatusJson } from "./rest-proto-json.js";
import { API_PATH, modelSpecOf, parseRoute, type RestRoute } from "./rest-routes.js";
import { ServingError, type ServingApi, type TensorInfoPlain } from "./serving-api.js";

export interface RestServerOptions {
  api: ServingApi;
  faults: Faults;
  callLog: CallLog;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export type RestServer = ListeningHttpServer;

const DEFAULT_SIGNATURE = "serving_default";

/** The CallRecord method name of a route (the gRPC method it corresponds to). */
const METHOD_OF: Record<RestRoute["kind"], string> = {
  status: "GetModelStatus",
  metadata: "GetModelMetadata",
  predict: "Predict",
  classify: "Classify",
  regress: "Regress",
};

/** libevent's evhttp_send_error(404) page, which TF Serving's HTTP server sends for paths outside /v1/. */
function notFoundPage(): string {
  return "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n";
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The input TensorInfo map of the requested signature (HttpRestApiHandler::GetInfoMap). */
function inputInfo(
  api: ServingApi,
  route: RestRoute,
  signatureName: string,
): Record<string, TensorInfoPlain> {
  const metadata = api.modelMetadata(modelSpecOf(route));
  const name = signatureName || DEFAULT_SIGNATURE;
  const signature = metadata.signature_def[name];
  if (!signature)
    throw new ServingError(
      "INVALID_ARGUMENT",
      `Serving signature name: "${name}" not found in signature def`,
    );
  return signature.inputs;
}

async function answer(api: ServingApi, route: RestRoute, body: string): Promise<string> {
  switch (route.kind) {
    case "status":
      // GetModelStatusImpl looks only at the version: a label on this route is ignored (facts §5).
      return modelStatusJson(api.modelStatus(route.model, route.version));
    case "metadata":
      return modelMetadataJson(api.modelMetadata(modelSpecOf(route)));
    case "predict": {
      const request = predictRequestFromJson(body, (signatureName) => inputInfo(api, route, signatureName));
      const response = await api.predict({
        model_spec: modelSpecOf(route, request.signatureName),
        inputs: request.inputs,
      });
      return predictResponseJson(response.outputs, request.format);
    }
    case "classify":
    case "regress":
      return regressOrClassify(api, route, body);
  }
}

/** The request listener, for mounting on another server; `startRestServer` wraps it. */
export function restRequestListener(options: Omit<RestServerOptions, "port" | "host">): RequestListener {
  const { api, faults, callLog } = options;
  return (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(errorJson(String(error)));
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    // Like TF Serving, routes see the request target as sent (path and query, not decoded).
    const target = req.url ?? "/";
    const unavailable = faults.restUnavailable();
    if (unavailable === "reset") {
      callLog.record({ transport: "rest", method: `${method} ${target}`, code: "UNAVAILABLE" });
      req.socket.destroy();
      return;
    }
    if (!API_PATH.test(target)) {
      callLog.record({ transport: "rest", method: `${method} ${target}`, code: "NOT_FOUND" });
      res.writeHead(404, { "Content-Type": "text/html; charset=ISO-8859-1", Connection: "close" });
      res.end(notFoundPage());
      return;
    }
    const body = await readBody(req);
    let route: RestRoute | undefined;
    let code = "OK";
    let reply: string;
    try {
      let routeError: unknown;
      try {
        route = parseRoute(method, target);
      } catch (error) {
        routeError = error;
      }
      faults.assertAvailable("rest");
      if (!route) throw routeError;
      reply = await answer(api, route, body);
    } catch (error) {
      const status =
        error instanceof ServingError
          ? error
          : new ServingError("INTERNAL", (error as Error).message ?? String(error));
      code = status.code;
      reply = errorJson(status.message);
    }
    callLog.record({
      transport: "rest",
      method: route ? METHOD_OF[route.kind] : `${method} ${target}`,
      ...(route ? { model: route.model } : {}),
      ...(route?.version !== undefined ? { version: route.version } : {}),
      ...(route?.label !== undefined ? { label: route.label } : {}),
      code,
    });
    res.writeHead(httpStatusOf(code), { "Content-Type": "application/json" });
    res.end(reply);
  }
}

/** Starts TF Serving's REST API on host:port (127.0.0.1 and a free port by default). */
export async function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const host = options.host ?? "127.0.0.1";
  return listenHttp(createServer(restRequestListener(options)), host, options.port ?? 0);
}
