// TF Serving's REST routing (facts §5; http_rest_api_util.cc ParseModelInfo): the same case-insensitive,
// full-match regexes, URL-decoding of model names and labels, and the same error messages.

import type { ModelSpecPlain } from "./serving-api.js";
import { ServingError } from "./serving-api.js";

/** Only paths matching this reach the API handler; everything else gets the HTTP server's 404 page. */
export const API_PATH = /^\/v1\/.*$/is;
const PREDICTION_PATH =
  /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/is;
const MODEL_PATH =
  /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/is;

export type RestRoute =
  | { kind: "status"; model: string; version?: string; label?: string }
  | { kind: "metadata"; model: string; version?: string; label?: string }
  | { kind: "predict" | "classify" | "regress"; model: string; version?: string; label?: string };

/** libcurl's curl_easy_unescape: %XX sequences become bytes (read as UTF-8); "+" and malformed escapes stay. */
export function urlUnescape(text: string): string {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Route of an API request, or throws TF Serving's INVALID_ARGUMENT for paths and methods it does not serve.
 * `path` is the request target as received, not decoded: TF Serving's uri_path() is evhttp's path_and_query
 * (net_http/server/internal/evhttp_request.cc), so "?x=1" ends up in the model name.
 */
export function parseRoute(method: string, path: string): RestRoute {
  const malformed = new ServingError("INVALID_ARGUMENT", `Malformed request: ${method} ${path}`);
  let match: RegExpExecArray | null = null;
  if (method === "POST") match = PREDICTION_PATH.exec(path);
  else if (method === "GET") match = MODEL_PATH.exec(path);
  const [, rawModel = "", rawVersion = "", rawLabel = "", action = ""] = match ?? [];
  const model = urlUnescape(rawModel);
  let version: string | undefined;
  if (rawVersion) {
    const value = BigInt(rawVersion);
    if (value > INT64_MAX)
      throw new ServingError("INVALID_ARGUMENT", `Failed to convert version: ${rawVersion} to numeric.`);
    version = value.toString();
  }
  const label = rawLabel ? urlUnescape(rawLabel) : undefined;
  if (!match) throw malformed;
  const target = {
    model,
    ...(version !== undefined ? { version } : {}),
    ...(label !== undefined ? { label } : {}),
  };
  // The regexes ignore case but the handler compares the captured words exactly: ":PREDICT" is malformed and
  // "/METADATA" is a status request.
  if (method === "POST") {
    if (action !== "predict" && action !== "classify" && action !== "regress") throw malformed;
    return { kind: action, ...target };
  }
  if (!model) throw new ServingError("INVALID_ARGUMENT", "Missing model name in request.");
  return { kind: action === "metadata" ? "metadata" : "status", ...target };
}

/** The ModelSpec a route asks for (FillModelSpecWithNameVersionAndLabel). */
export function modelSpecOf(route: RestRoute, signatureName?: string): ModelSpecPlain {
  const spec: ModelSpecPlain = { name: route.model };
  if (route.version !== undefined) spec.version = { value: route.version };
  if (route.label !== undefined) spec.version_label = route.label;
  if (signatureName) spec.signature_name = signatureName;
  return spec;
}
