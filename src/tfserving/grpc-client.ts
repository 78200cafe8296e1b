import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { RolloutError, UsageError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { Backoff, type BackoffOptions, retryWithBackoff } from "./backoff.js";
import { isServiceError, isUnreachable, toRolloutError } from "./grpc-errors.js";
import { tfServingServices } from "./grpc-package.js";
import { type GetModelStatusResponseObject, type VersionStatus, versionStatuses } from "./model-status.js";

export const DEFAULT_GRPC_ADDRESS = "127.0.0.1:8500";
export const DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH = 64 * 1024 * 1024;
export const SIGNATURE_DEF_MAP_TYPE_URL = "type.googleapis.com/tensorflow.serving.SignatureDefMap";

/** Canonical plain objects (see src/proto/registry.ts); loosely typed because their shape is the .proto's. */
export type ProtoObject = Record<string, unknown>;

export interface TlsOptions {
  /** PEM of the CA that signed TF Serving's certificate; the system roots when absent. */
  ca?: Buffer;
  /** PEM client certificate and key, for servers that require client authentication (both or neither). */
  cert?: Buffer;
  key?: Buffer;
  /** Name to verify TF Serving's certificate against when it differs from the address's host. */
  serverNameOverride?: string;
}

/** Reads the PEM files named in a config or on the command line; a missing file is a UsageError naming it. */
export function readTlsFiles(paths: {
  ca?: string;
  cert?: string;
  key?: string;
  serverNameOverride?: string;
}): TlsOptions {
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new UsageError(`cannot read the TLS ${what} file: ${(error as Error).message}`, {
        where: path,
        hint: `give the path of a readable PEM file for the ${what}`,
        cause: error,
      });
    }
  };
  const tls: TlsOptions = {};
  const ca = read("CA certificate", paths.ca);
  const cert = read("client certificate", paths.cert);
  const key = read("client key", paths.key);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (paths.serverNameOverride) tls.serverNameOverride = paths.serverNameOverride;
  return tls;
}

export interface TfServingGrpcClientOptions {
  /** host:port of TF Serving's gRPC port (--port). */
  address?: string;
  /** Deadline of each call, ms. */
  deadlineMs?: number;
  /** Deadline of HandleReloadConfigRequest, ms: it blocks until new models load (a failing one ~5 min). */
  reloadDeadlineMs?: number;
  tls?: TlsOptions;
  /** Largest reply accepted, bytes (Node's gRPC default of 4 MB is too small for big predict replies). */
  maxReceiveMessageLength?: number;
  /** Delays between retries of idempotent calls; also seeds the channel's own reconnect backoff. */
  backoff?: Backoff | BackoffOptions;
  /** Calls per idempotent request before giving up (>= 1). Reloads are never retried. */
  attempts?: number;
  /** No retry starts later than this many ms after the first call. */
  overallDeadlineMs?: number;
  /** Observer of every attempt (metrics, readiness); see CallObserver. */
  onCall?: CallObserver;
}

/**
 * Told about every attempt of every call once it ends: method as "Service/Method", its duration, and the gRPC
 * status name ("OK" on success, e.g. "UNAVAILABLE" when TF Serving could not be reached). Must not throw.
 */
export type CallObserver = (method: string, durationMs: number, code: string) => void;

export interface CallOptions {
  deadlineMs?: number;
}

export type VersionSelector = { version?: string | number | bigint; label?: string };

export interface ModelMetadata {
  /** The reply's ModelSpec: name and the version actually resolved. */
  model_spec: ProtoObject;
  /** SignatureDefMap.signature_def: every signature of the loaded meta graph, by name. */
  signature_def: Record<string, ProtoObject>;
}

type MethodDefinition = grpc.MethodDefinition<ProtoObject, ProtoObject>;

/** A client of TF Serving's ModelService and PredictionService over one gRPC channel. */
export class TfServingGrpcClient {
  readonly address: string;
  private readonly deadlineMs: number;
  private readonly reloadDeadlineMs: number;
  private readonly attempts: number;
  private readonly overallDeadlineMs: number;
  private readonly backoff: Backoff;
  private readonly modelService: grpc.Client;
  private readonly predictionService: grpc.Client;
  private readonly callObservers = new Set<CallObserver>();

  constructor(options: TfServingGrpcClientOptions = {}) {
    this.address = checkAddress(options.address ?? DEFAULT_GRPC_ADDRESS);
    this.deadlineMs = positive("deadlineMs", options.deadlineMs ?? 30_000);
    this.reloadDeadlineMs = positive("reloadDeadlineMs", options.reloadDeadlineMs ?? 360_000);
    this.attempts = positive("attempts", options.attempts ?? 5);
    this.overallDeadlineMs = positive("overallDeadlineMs", options.overallDeadlineMs ?? 60_000);
    this.backoff = options.backoff instanceof Backoff ? options.backoff : new Backoff(options.backoff);
    if (options.onCall) this.callObservers.add(options.onCall);
    const channelOptions: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": positive(
        "maxReceiveMessageLength",
        options.maxReceiveMessageLength ?? DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
      ),
      "grpc.initial_reconnect_backoff_ms": Math.max(1, this.backoff.initialMs),
      "grpc.max_reconnect_backoff_ms": Math.max(1, this.backoff.maxMs),
    };
    if (options.tls?.serverNameOverride) {
      channelOptions["grpc.ssl_target_name_override"] = options.tls.serverNameOverride;
      channelOptions["grpc.default_authority"] = options.tls.serverNameOverride;
    }
    const services = tfServingServices();
    this.modelService = new services.ModelService(this.address, credentials(options.tls), channelOptions);
    this.predictionService = new services.PredictionService(this.address, credentials(options.tls), {
      ...channelOptions,
      channelOverride: this.modelService.getChannel(),
    });
  }

  /** Every version TF Serving knows of (or only `version`), in its order (descending). */
  async getModelStatus(
    name: string,
    options: CallOptions & { version?: string | number | bigint } = {},
  ): Promise<VersionStatus[]> {
    const model_spec: ProtoObject = { name: checkName(name) };
    if (options.version !== undefined) model_spec.version = { value: int64(options.version) };
    const reply = await this.call(
      this.modelService,
      "ModelService",
      "GetModelStatus",
      { model_spec },
      {
        deadlineMs: options.deadlineMs ?? this.deadlineMs,
        retry: true,
      },
    );
    return versionStatuses(reply as GetModelStatusResponseObject);
  }

  /**
   * Sends a ModelServerConfig (canonical plain object). Never retried: a reload that may have reached the server
   * must not be repeated blindly. A failure arrives as a non-OK status with no body (facts §3).
   */
  async reloadConfig(
    config: ProtoObject,
    options: CallOptions & { metricNames?: string[] } = {},
  ): Promise<ProtoObject> {
    const request: ProtoObject = { config };
    if (options.metricNames?.length) request.metric_names = options.metricNames;
    return this.call(this.modelService, "ModelService", "HandleReloadConfigRequest", request, {
      deadlineMs: options.deadlineMs ?? this.reloadDeadlineMs,
      retry: false,
    });
  }

  /** PredictRequest → PredictResponse, both canonical plain objects. */
  async predict(request: ProtoObject, options: CallOptions = {}): Promise<ProtoObject> {
    return this.call(this.predictionService, "PredictionService", "Predict", request, {
      deadlineMs: options.deadlineMs ?? this.deadlineMs,
      retry: true,
    });
  }

  /** The signature map of a model version (latest when neither version nor label is given). */
  async getModelMetadata(name: string, options: CallOptions & VersionSelector = {}): Promise<ModelMetadata> {
    const model_spec: ProtoObject = { name: checkName(name) };
    if (options.version !== undefined && options.label !== undefined)
      throw new UsageError("give either a version or a label, not both", {
        hint: "TF Serving's ModelSpec holds one of them (oneof version_choice)",
      });
    if (options.version !== undefined) model_spec.version = { value: int64(options.version) };
    if (options.label !== undefined) model_spec.version_label = options.label;
    const reply = await this.call(
      this.predictionService,
      "PredictionService",
      "GetModelMetadata",
      { model_spec, metadata_field: ["signature_def"] },
      { deadlineMs: options.deadlineMs ?? this.deadlineMs, retry: true },
    );
    return decodeMetadata(reply, this.address);
  }

  /** Adds an observer of every call attempt (see CallObserver); returns the function that removes it. */
  observeCalls(observer: CallObserver): () => void {
    this.callObservers.add(observer);
    return () => this.callObservers.delete(observer);
  }

  close(): void {
    this.predictionService.close();
    this.modelService.close();
  }

  private async call(
    client: grpc.Client,
    service: "ModelService" | "PredictionService",
    method: string,
    request: ProtoObject,
    options: { deadlineMs: number; retry: boolean },
  ): Promise<ProtoObject> {
    const services = tfServingServices();
    const definition = services[service].service[method] as MethodDefinition;
    const label = `${service}/${method}`;
    let attempts = 0;
    let channelWasReady = false;
    try {
      return await retryWithBackoff(
        () => {
          attempts++;
          const started = performance.now();
          return new Promise<ProtoObject>((resolve, reject) => {
            client.makeUnaryRequest(
              definition.path,
              definition.requestSerialize,
              definition.responseDeserialize,
              request,
              new grpc.Metadata(),
              { deadline: Date.now() + options.deadlineMs },
              (error, reply) => {
                channelWasReady =
                  client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
                this.reportCall(label, performance.now() - started, error);
                if (error) reject(error);
                else resolve(reply ?? {});
              },
            );
          });
        },
        {
          backoff: this.backoff.clone(),
          attempts: options.retry ? this.attempts : 1,
          overallDeadlineMs: this.overallDeadlineMs,
          retryable: (error) => isServiceError(error) && isUnreachable(error, channelWasReady),
        },
      );
    } catch (error) {
      throw toRolloutError(error, { address: this.address, method: label, channelWasReady, attempts });
    }
  }

  private reportCall(method: string, durationMs: number, error: grpc.ServiceError | null): void {
    if (this.callObservers.size === 0) return;
    const code = error ? (grpc.status[error.code] ?? "UNKNOWN") : "OK";
    for (const observer of this.callObservers) {
      try {
        observer(method, durationMs, code);
      } catch {
        // An observer is for metrics only: it must never fail a call.
      }
    }
  }
}

function decodeMetadata(reply: ProtoObject, address: string): ModelMetadata {
  const metadata = (reply.metadata ?? {}) as Record<string, { type_url?: string; value?: Buffer }>;
  const any = metadata.signature_def;
  const where = `${address} GetModelMetadata`;
  if (!any)
    throw new RolloutError('the GetModelMetadata reply has no "signature_def" metadata entry', {
      where,
      hint: "is this TF Serving? its reply always carries the signature_def entry that was asked for",
    });
  if (any.type_url !== SIGNATURE_DEF_MAP_TYPE_URL)
    throw new RolloutError(
      `metadata "signature_def" holds type_url "${any.type_url ?? ""}", expected "${SIGNATURE_DEF_MAP_TYPE_URL}"`,
      { where, hint: "the server is not TF Serving or a newer version changed the metadata format" },
    );
  const type = messageType("tensorflow.serving.SignatureDefMap");
  let decoded: ProtoObject;
  try {
    decoded = type.toObject(type.decode(any.value ?? Buffer.alloc(0)), { longs: String, enums: String });
  } catch (error) {
    throw new RolloutError(`metadata "signature_def" is not a valid SignatureDefMap: ${String(error)}`, {
      where,
      cause: error,
    });
  }
  return {
    model_spec: (reply.model_spec ?? {}) as ProtoObject,
    signature_def: (decoded.signature_def ?? {}) as Record<string, ProtoObject>,
  };
}

function credentials(tls: TlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new UsageError("TLS client certificate and key must be given together", {
      hint: "set both the client cert and key, or neither (server-only TLS)",
    });
  return grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

function checkAddress(address: string): string {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(address))
    throw new UsageError(`invalid TF Serving gRPC address "${address}"`, {
      hint: `use host:port, e.g. ${DEFAULT_GRPC_ADDRESS} (TF Serving's --port, default 8500)`,
    });
  return address;
}

function checkName(name: string): string {
  if (!name) throw new UsageError("model name is empty", { hint: "give the model name from the config" });
  return name;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A version as the exact decimal string protobufjs needs for int64 (numbers beyond 2^53 must not be used). */
function int64(version: string | number | bigint): string {
  const text = String(version);
  const valid =
    /^-?\d+$/.test(text) &&
    (typeof version !== "number" || Number.isSafeInteger(version)) &&
    BigInt(text) >= INT64_MIN &&
    BigInt(text) <= INT64_MAX;
  if (!valid)
    throw new UsageError(`invalid model version "${text}"`, {
      hint: "a version is a 64-bit integer; pass versions beyond 2^53 as strings or bigints",
    });
  return BigInt(text).toString();
}

function positive(what: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new UsageError(`${what} must be a positive number, got ${value}`);
  return value;
}
