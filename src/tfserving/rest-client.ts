import { z } from "zod";
import { RolloutError, UnreachableError, UsageError } from "../errors.js";
import { LenientJsonError, parseLenientJson, stringifyLenientJson } from "./lenient-json.js";

/** Which version a call addresses: an exact number, or a version label resolved by TF Serving. */
export type VersionRef = { version: number | bigint | string } | { label: string };

export interface RestClientOptions {
  /** Where TF Serving's REST API listens (its --rest_api_port), e.g. "http://127.0.0.1:8501". */
  baseUrl: string;
  /** Deadline for each call, connect through last byte of the reply; default 10 s. */
  timeoutMs?: number;
}

const versionStatusSchema = z.looseObject({
  version: z.string(),
  state: z.string(),
  status: z
    .looseObject({ error_code: z.string().optional(), error_message: z.string().optional() })
    .optional(),
});
/** One entry of GetModelStatusResponse as REST prints it: int64 version as a decimal string, enums as names. */
export type ModelVersionStatus = z.infer<typeof versionStatusSchema>;
const statusReplySchema = z.looseObject({ model_version_status: z.array(versionStatusSchema).optional() });

const tensorInfoSchema = z.looseObject({
  dtype: z.string().optional(),
  tensor_shape: z
    .looseObject({
      dim: z.array(z.looseObject({ size: z.string().optional(), name: z.string().optional() })).optional(),
      unknown_rank: z.boolean().optional(),
    })
    .optional(),
  name: z.string().optional(),
});
const signatureDefSchema = z.looseObject({
  inputs: z.record(z.string(), tensorInfoSchema).optional(),
  outputs: z.record(z.string(), tensorInfoSchema).optional(),
  method_name: z.string().optional(),
});
export type SignatureDefJson = z.infer<typeof signatureDefSchema>;
const metadataReplySchema = z.looseObject({
  model_spec: z.looseObject({
    name: z.string(),
    signature_name: z.string().optional(),
    version: z.string().optional(),
  }),
  metadata: z.looseObject({
    signature_def: z.looseObject({ signature_def: z.record(z.string(), signatureDefSchema) }),
  }),
});

export interface ModelMetadata {
  /** The model spec TF Serving resolved: name and the numeric version (as a decimal string) it answered for. */
  model_spec: { name: string; signature_name?: string; version?: string };
  /** Every signature of the loaded graph, unwrapped from REST's `metadata.signature_def.signature_def`. */
  signature_def: Record<string, SignatureDefJson>;
}

/** Row form (`instances`, one entry per example) or columnar form (`inputs`, one value or list per input). */
export type PredictBody = { instances: unknown[] } | { inputs: unknown };

export interface PredictOptions {
  ref?: VersionRef;
  /** Empty or absent means TF Serving's `serving_default`. */
  signatureName?: string;
}

/** Row requests get `predictions`, columnar requests get `outputs`; values may hold NaN/±Infinity and bigint. */
export type PredictReply = { predictions: unknown[] } | { outputs: unknown };

/** A TF Serving REST call that got an HTTP error status; carries the status, TF Serving's text and the URL. */
export class TfServingHttpError extends RolloutError {
  constructor(
    readonly httpStatus: number,
    readonly serverMessage: string | undefined,
    readonly url: string,
    method: string,
    rawBody: string,
  ) {
    const detail = serverMessage ?? (rawBody.trim().slice(0, 200) || "(empty body)");
    super(`TF Serving answered HTTP ${httpStatus} to ${method}: ${detail}`, {
      where: url,
      hint: hintForStatus(httpStatus, serverMessage),
    });
  }
}

function hintForStatus(status: number, serverMessage: string | undefined): string {
  if (status === 404 && serverMessage === undefined)
    return "this is not a TF Serving REST route; check the base URL points at --rest_api_port (paths start /v1/)";
  if (status === 404)
    return "check the model name and version against `GET /v1/models/<name>` (the version may not be loaded yet)";
  if (status === 400) return "TF Serving rejected the request as invalid; the message above says which part";
  if (status === 501) return "TF Serving cannot convert this dtype over REST (e.g. DT_HALF); use gRPC";
  if (status === 503 || status === 504)
    return "TF Serving is overloaded or the model is slow; retry or raise --rest_api_timeout_in_ms";
  return "see TF Serving's log for the failing request";
}

function pathSegment(kind: string, value: string): string {
  if (value === "") throw new UsageError(`empty ${kind}`, { hint: `give a non-empty ${kind}` });
  return encodeURIComponent(value);
}

function versionPath(ref: VersionRef | undefined): string {
  if (ref === undefined) return "";
  if ("label" in ref) return `/labels/${pathSegment("version label", ref.label)}`;
  const version = String(ref.version);
  if (!/^\d+$/.test(version))
    throw new UsageError(`version ${JSON.stringify(version)} is not a whole number ≥ 0`, {
      hint: "TF Serving versions are the numeric directory names, e.g. 123",
    });
  return `/versions/${version}`;
}

export class RestClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;

  constructor(options: RestClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new UsageError(`REST base URL ${JSON.stringify(options.baseUrl)} is not a URL`, {
        hint: "use e.g. http://127.0.0.1:8501 (the host and TF Serving's --rest_api_port)",
      });
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new UsageError(`REST base URL ${options.baseUrl} is not http(s)`, {
        hint: "use e.g. http://127.0.0.1:8501",
      });
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * GET /v1/models/{m}[/versions/{n}]: the status of every known version (newest first), or of one version.
   * There is deliberately no label form: TF Serving's status route accepts `/labels/{l}` but ignores the label
   * and returns every version, even for an unknown label (facts §5). Resolve a label with modelMetadata instead.
   */
  async modelStatus(model: string, version?: number | bigint | string): Promise<ModelVersionStatus[]> {
    const path = `/v1/models/${pathSegment("model name", model)}${versionPath(version === undefined ? undefined : { version })}`;
    const { url, body } = await this.call("GET", path);
    return this.validate(statusReplySchema, body, url).model_version_status ?? [];
  }

  /** GET /v1/models/{m}[/versions/{n}|/labels/{l}]/metadata; unlike status, a label here is really resolved. */
  async modelMetadata(model: string, ref?: VersionRef): Promise<ModelMetadata> {
    const path = `/v1/models/${pathSegment("model name", model)}${versionPath(ref)}/metadata`;
    const { url, body } = await this.call("GET", path);
    const reply = this.validate(metadataReplySchema, body, url);
    return { model_spec: reply.model_spec, signature_def: reply.metadata.signature_def.signature_def };
  }

  /** POST /v1/models/{m}[/versions/{n}|/labels/{l}]:predict in row (`instances`) or columnar (`inputs`) form. */
  async predict(model: string, request: PredictBody, options: PredictOptions = {}): Promise<PredictReply> {
    const path = `/v1/models/${pathSegment("model name", model)}${versionPath(options.ref)}:predict`;
    const payload: Record<string, unknown> = options.signatureName
      ? { signature_name: options.signatureName }
      : {};
    const rowForm = "instances" in request;
    if (rowForm) payload.instances = request.instances;
    else payload.inputs = request.inputs;
    const { url, body } = await this.call("POST", path, stringifyLenientJson(payload));
    const key = rowForm ? "predictions" : "outputs";
    if (typeof body !== "object" || body === null || !(key in body))
      throw new RolloutError(`TF Serving's predict reply has no "${key}" field`, {
        where: url,
        hint: "the server at this address does not answer like TF Serving's REST API",
      });
    return body as PredictReply;
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    requestBody?: string,
  ): Promise<{ url: string; body: unknown }> {
    const url = this.baseUrl + path;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        body: requestBody,
        headers: requestBody === undefined ? {} : { "content-type": "application/json" },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw this.transportError(error, method, url);
    }
    let body: unknown;
    let parseError: LenientJsonError | undefined;
    try {
      body = parseLenientJson(text);
    } catch (error) {
      if (!(error instanceof LenientJsonError)) throw error;
      parseError = error;
    }
    if (status < 200 || status > 299) {
      const errorText = (body as { error?: unknown } | undefined)?.error;
      throw new TfServingHttpError(
        status,
        typeof errorText === "string" ? errorText : undefined,
        url,
        method,
        text,
      );
    }
    if (parseError)
      throw new RolloutError(`TF Serving's reply to ${method} is not JSON: ${parseError.message}`, {
        where: url,
        hint: "the server at this address does not answer like TF Serving's REST API",
        cause: parseError,
      });
    return { url, body };
  }

  private transportError(error: unknown, method: string, url: string): RolloutError {
    const port = new URL(url).port || "(default port)";
    if (error instanceof Error && error.name === "TimeoutError")
      return new UnreachableError(`TF Serving did not answer ${method} within ${this.timeoutMs} ms`, {
        where: url,
        hint: `check that TF Serving is up and not stuck (a blocked config reload stalls it); raise the timeout if the model is slow`,
        cause: error,
      });
    const cause =
      error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
    if (cause?.message === "bad port")
      return new UsageError(`fetch refuses port ${port} (a port browsers block)`, {
        where: url,
        hint: "run TF Serving's REST API on another --rest_api_port, e.g. 8501",
      });
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new UnreachableError(`cannot reach TF Serving's REST API (${reason})`, {
      where: url,
      hint: `is TF Serving running at ${this.baseUrl} with --rest_api_port=${port}? (REST is off unless --rest_api_port is set)`,
      cause: error,
    });
  }

  private validate<T>(schema: z.ZodType<T>, body: unknown, url: string): T {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    throw new RolloutError(
      `TF Serving's reply has an unexpected shape at ${issue?.path.join(".") || "(top level)"}: ${issue?.message}`,
      {
        where: url,
        hint: "the server at this address does not answer like TF Serving's REST API (wrong port?)",
      },
    );
  }
}
