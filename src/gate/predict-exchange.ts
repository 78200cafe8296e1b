// Sends one PreparedRequest to one version BY NUMBER (ModelSpec.version / REST /versions/N; only the bake probe,
// which checks what clients of `stable` get, sends by label) and
// brings back what the checks need: decoded outputs (or why decoding failed), the version that answered, the
// error if the call failed, and how long it took on the injected clock.
import { decodeTensor, type TensorProtoObject } from "../tensor/codec.js";
import { flattenNested } from "../tensor/shape.js";
import type { RestClient } from "../tfserving/rest-client.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { grpcInputs, restInputs, type PreparedRequest } from "./prepared-request.js";
import type { TensorLike } from "./summary.js";

export type Transport = "grpc" | "rest";

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export interface Exchange {
  transport: Transport;
  elapsedMs: number;
  error?: unknown;
  outputs?: Record<string, TensorLike | Error>;
  /** gRPC only: PredictResponse.model_spec.version, the version that actually answered. */
  replyVersion?: string;
}

export interface ExchangeTarget {
  model: string;
  /** The version that must answer. */
  version: string;
  /** Send by this version label instead of by number (the bake probe asks `stable`); `version` must still answer. */
  label?: string;
  deadlineMs: number;
  clock: Clock;
}

export async function grpcExchange(
  grpc: Pick<TfServingGrpcClient, "predict">,
  target: ExchangeTarget,
  request: PreparedRequest,
): Promise<Exchange> {
  const started = target.clock.now();
  const elapsed = (): number => target.clock.now() - started;
  let reply: Record<string, unknown>;
  try {
    reply = await grpc.predict(
      {
        model_spec: {
          name: target.model,
          ...(target.label === undefined
            ? { version: { value: target.version } }
            : { version_label: target.label }),
          signature_name: request.signature,
        },
        inputs: grpcInputs(request),
      },
      { deadlineMs: target.deadlineMs },
    );
  } catch (error) {
    return { transport: "grpc", elapsedMs: elapsed(), error };
  }
  const elapsedMs = elapsed();
  const outputs: Record<string, TensorLike | Error> = {};
  for (const [alias, proto] of Object.entries((reply.outputs ?? {}) as Record<string, TensorProtoObject>)) {
    try {
      outputs[alias] = decodeTensor(proto, `output "${alias}"`);
    } catch (error) {
      outputs[alias] = error instanceof Error ? error : new Error(String(error));
    }
  }
  const spec = reply.model_spec as { version?: { value?: string } } | undefined;
  const exchange: Exchange = { transport: "grpc", elapsedMs, outputs };
  if (spec?.version?.value !== undefined) exchange.replyVersion = String(spec.version.value);
  return exchange;
}

/** A REST predict that did not answer within the gate's request deadline. */
export class RestDeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`no REST answer within the ${deadlineMs} ms deadline`);
    this.name = "RestDeadlineError";
  }
}

const isLeaf = (v: unknown): v is unknown => !Array.isArray(v);

function jsonTensor(alias: string, value: unknown): TensorLike | Error {
  try {
    return flattenNested(value, isLeaf, `output "${alias}"`);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function isOutputMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !("b64" in value);
}

/**
 * Columnar REST predict. TF Serving answers `{"outputs": list}` when there is one output and
 * `{"outputs": {alias: list}}` when there are several (facts §5); `declaredOutputs` tells which alias a bare
 * list belongs to.
 */
export async function restExchange(
  rest: Pick<RestClient, "predict">,
  target: ExchangeTarget,
  request: PreparedRequest,
  declaredOutputs: readonly string[],
): Promise<Exchange> {
  const started = target.clock.now();
  let reply: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    // The REST client has one timeout for all calls; the gate's own deadline still bounds this one.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RestDeadlineError(target.deadlineMs)), target.deadlineMs);
    });
    reply = await Promise.race([
      rest.predict(
        target.model,
        { inputs: restInputs(request) },
        {
          ref: target.label === undefined ? { version: target.version } : { label: target.label },
          signatureName: request.signature,
        },
      ),
      late,
    ]);
  } catch (error) {
    return { transport: "rest", elapsedMs: target.clock.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
  const elapsedMs = target.clock.now() - started;
  const body = (reply as { outputs?: unknown }).outputs;
  const outputs: Record<string, TensorLike | Error> = {};
  if (declaredOutputs.length === 1 && !isOutputMap(body))
    outputs[declaredOutputs[0]!] = jsonTensor(declaredOutputs[0]!, body);
  else if (isOutputMap(body))
    for (const [alias, value] of Object.entries(body)) outputs[alias] = jsonTensor(alias, value);
  return { transport: "rest", elapsedMs, outputs };
}
