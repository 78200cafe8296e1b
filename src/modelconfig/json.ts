import protobuf from "protobufjs";
import { messageType } from "../proto/registry.js";

export interface ProtoJsonOptions {
  /** Keep the .proto field names (snake_case) instead of lowerCamelCase, like `preserving_proto_field_name`. */
  protoNames?: boolean;
}

/**
 * A message in canonical plain-object form → protobuf's canonical JSON mapping: lowerCamelCase names (or the proto
 * names), int64 as decimal strings, enums by name, bytes base64, maps as objects, empty messages as `{}`, unset
 * fields left out, NaN/Infinity as strings. A `google.protobuf.Any` whose type is in protos/ becomes
 * `{"@type": url, ...fields}`; one of an unknown type stays `{typeUrl, value}` (base64), since it cannot be expanded.
 */
export function toProtoJson(
  typeName: string,
  object: Record<string, unknown>,
  options: ProtoJsonOptions = {},
): Record<string, unknown> {
  const type = messageType(typeName);
  const converted = type.toObject(type.fromObject(object), {
    longs: String,
    enums: String,
    bytes: String,
    json: true,
  });
  return renameFields(type, converted, options.protoNames === true);
}

export function modelServerConfigToJson(
  config: object,
  options: ProtoJsonOptions = {},
): Record<string, unknown> {
  return toProtoJson("tensorflow.serving.ModelServerConfig", config as Record<string, unknown>, options);
}

/** protobuf's ToJsonName: drop each '_' and upper-case the letter after it. */
export function jsonName(protoName: string): string {
  let out = "";
  let upperNext = false;
  for (const char of protoName) {
    if (char === "_") {
      upperNext = true;
    } else {
      out += upperNext ? char.toUpperCase() : char;
      upperNext = false;
    }
  }
  return out;
}

function renameFields(type: protobuf.Type, object: Record<string, unknown>, protoNames: boolean) {
  const messageOf = anyPayloadType(type, object) ?? type;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const field = messageOf.fields[key];
    if (!field) {
      out[key] = value; // "@type" of an expanded Any
      continue;
    }
    if (isOmittedDefault(field, value)) continue;
    const name = protoNames ? key : ((field.options?.json_name as string | undefined) ?? jsonName(key));
    out[name] = convertValue(field, value, protoNames);
  }
  return out;
}

function convertValue(field: protobuf.Field, value: unknown, protoNames: boolean): unknown {
  const nested = field.resolvedType;
  if (!(nested instanceof protobuf.Type)) return value;
  const one = (v: unknown) => renameFields(nested, v as Record<string, unknown>, protoNames);
  if (field.map) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, one(v)]));
  }
  return field.repeated ? (value as unknown[]).map(one) : one(value);
}

/**
 * proto3 JSON leaves out singular scalars holding their default value (protobufjs keeps them when they were
 * explicitly set, e.g. `type: ""` in the text); oneof members and `optional` fields have presence and stay.
 */
function isOmittedDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.repeated || field.map || field.partOf || field.resolvedType instanceof protobuf.Type)
    return false;
  if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.valuesById[0] === value;
  if (field.type === "string" || field.type === "bytes") return value === "";
  return value === 0 || value === false || value === "0"; // numbers, bool, 64-bit integers as strings
}

/** The message type packed in an expanded Any (`{"@type": ".../pkg.Name", ...}`), when protos/ knows it. */
function anyPayloadType(type: protobuf.Type, object: Record<string, unknown>): protobuf.Type | undefined {
  const url = object["@type"];
  if (type.fullName !== ".google.protobuf.Any" || typeof url !== "string") return undefined;
  try {
    return messageType(url.slice(url.lastIndexOf("/") + 1));
  } catch {
    return undefined;
  }
}
