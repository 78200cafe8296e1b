// Status and metadata replies, printed like TF Serving's ToJsonString (http_rest_api_util.cc): protobuf JSON
// with add_whitespace, always_print_primitive_fields and proto field names; int64 as strings, enums as names.

import { messageType } from "../proto/registry.js";
import { protoJson, type ProtoJsonValue } from "./rest-json-write.js";
import type {
  ModelSpecPlain,
  ModelVersionStatusPlain,
  SignatureDefPlain,
  TensorInfoPlain,
} from "./serving-api.js";

/** ToHTTPStatusCode (facts §5 table). */
const HTTP_STATUS: Record<string, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export function httpStatusOf(code: string): number {
  return HTTP_STATUS[code] ?? 500;
}

/** GetModelStatusResponse JSON; versions listed highest first. */
export function modelStatusJson(statuses: readonly ModelVersionStatusPlain[]): string {
  const sorted = [...statuses].sort((a, b) => (BigInt(b.version) > BigInt(a.version) ? 1 : -1));
  return protoJson({
    model_version_status: sorted.map((status) => ({
      version: status.version,
      state: status.state,
      status: { error_code: status.status.error_code, error_message: status.status.error_message ?? "" },
    })),
  });
}

function modelSpecJson(spec: ModelSpecPlain): ProtoJsonValue {
  // Regular fields first, then the set member of oneof version_choice, as protobuf's printer orders them.
  const json: Record<string, ProtoJsonValue> = { name: spec.name, signature_name: spec.signature_name ?? "" };
  if (spec.version !== undefined) json.version = String(spec.version.value);
  else if (spec.version_label !== undefined) json.version_label = spec.version_label;
  return json;
}

function tensorShapeJson(shape: NonNullable<TensorInfoPlain["tensor_shape"]>): ProtoJsonValue {
  return {
    dim: (shape.dim ?? []).map((dim) => ({ size: String(dim.size ?? "0"), name: dim.name ?? "" })),
    unknown_rank: shape.unknown_rank ?? false,
  };
}

function tensorInfoJson(info: TensorInfoPlain): ProtoJsonValue {
  const extra = info as TensorInfoPlain & { coo_sparse?: unknown; composite_tensor?: unknown };
  const json: Record<string, ProtoJsonValue> = { dtype: info.dtype || "DT_INVALID" };
  if (info.tensor_shape) json.tensor_shape = tensorShapeJson(info.tensor_shape);
  if (typeof info.name === "string") json.name = info.name;
  else if (extra.coo_sparse !== undefined) json.coo_sparse = extra.coo_sparse as ProtoJsonValue;
  else if (extra.composite_tensor !== undefined)
    json.composite_tensor = extra.composite_tensor as ProtoJsonValue;
  return json;
}

/** A TensorProto of SignatureDef.defaults with every primitive field printed (always_print_primitive_fields). */
function tensorProtoJson(tensor: unknown): ProtoJsonValue {
  const type = messageType("tensorflow.TensorProto");
  const object = type.toObject(type.fromObject(tensor as Record<string, unknown>), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
    arrays: true,
  });
  return JSON.parse(JSON.stringify(object, (_key, value: unknown) => (value === null ? undefined : value)));
}

function signatureJson(
  signature: SignatureDefPlain & { defaults?: Record<string, unknown> },
): ProtoJsonValue {
  const map = (infos: Record<string, TensorInfoPlain>): ProtoJsonValue =>
    Object.fromEntries(Object.entries(infos ?? {}).map(([alias, info]) => [alias, tensorInfoJson(info)]));
  return {
    inputs: map(signature.inputs),
    outputs: map(signature.outputs),
    method_name: signature.method_name ?? "",
    defaults: Object.fromEntries(
      Object.entries(signature.defaults ?? {}).map(([key, tensor]) => [key, tensorProtoJson(tensor)]),
    ),
  };
}

/**
 * GetModelMetadataResponse JSON, assembled by string concatenation exactly as TF Serving does (hence the
 * signature map nested twice: metadata.signature_def is a SignatureDefMap whose field is signature_def).
 */
export function modelMetadataJson(metadata: {
  model_spec: ModelSpecPlain;
  signature_def: Record<string, SignatureDefPlain>;
}): string {
  const spec = { ...metadata.model_spec };
  delete spec.signature_name;
  const signatures = Object.fromEntries(
    Object.entries(metadata.signature_def).map(([key, signature]) => [key, signatureJson(signature)]),
  );
  return (
    "{\n" +
    `"model_spec":${protoJson(modelSpecJson(spec))},\n` +
    `"metadata": {"signature_def": ${protoJson({ signature_def: signatures })}}\n` +
    "}\n"
  );
}
