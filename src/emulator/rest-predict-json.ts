// Predict request JSON → TensorProtos and output TensorProtos → reply JSON, following TF Serving's
// util/json_tensor.cc (facts §5): row ("instances") and columnar ("inputs") formats, {"b64": ...} strings, the
// same checks in the same order with the same messages, and the reply layout of its rapidjson PrettyWriter.

import { decodeTensor, type TensorProtoObject } from "../tensor/codec.js";
import type { TensorValue } from "../tensor/elements.js";
import {
  isInt,
  isInt64,
  isUint,
  isUint64,
  member,
  parseRequestEnvelope,
  type JsonNode,
} from "./rest-json-parse.js";
import { jsonValueToString, PrettyWriter, writeDecimal } from "./rest-json-write.js";
import { ServingError, type TensorInfoPlain } from "./serving-api.js";

export type PredictFormat = "row" | "columnar";

export interface JsonPredictRequest {
  /** As sent; "" when absent (TF then uses serving_default). */
  signatureName: string;
  inputs: Record<string, TensorProtoObject>;
  format: PredictFormat;
}

const invalid = (message: string): ServingError => new ServingError("INVALID_ARGUMENT", message);

/** DataTypeString: "DT_FLOAT" → "float", "DT_FLOAT_REF" → "float_ref". */
export function dataTypeString(dtype: string): string {
  return dtype.replace(/^DT_/, "").toLowerCase();
}

/** absl Status::ToString, used when TF wraps one error message in another. */
function statusToString(error: ServingError): string {
  return `${error.code}: ${error.message}`;
}

function jsonTypeString(node: JsonNode): string {
  switch (node.kind) {
    case "null":
      return "Null";
    case "bool":
      return node.value ? "True" : "False";
    case "object":
      return "Object";
    case "array":
      return "Array";
    case "string":
      return "String";
    case "number":
      return "Number";
  }
}

function typeError(node: JsonNode, dtype: string): ServingError {
  return invalid(
    `JSON Value: ${jsonValueToString(node)} Type: ${jsonTypeString(node)} is not of expected type: ${dataTypeString(dtype)}`,
  );
}

const FLOAT_MAX = 3.4028234663852886e38;

function isLosslessDecimal(node: Extract<JsonNode, { kind: "number" }>, kind: "float" | "double"): boolean {
  if (!Number.isFinite(node.value)) return true;
  const maxInt = kind === "float" ? 2n ** 24n - 1n : 2n ** 53n - 1n;
  if (node.integer !== undefined) return (node.integer < 0n ? -node.integer : node.integer) <= maxInt;
  return kind === "double" || Math.abs(node.value) <= FLOAT_MAX;
}

/** One growing TensorProto: dtype, the `*_val` entries, and the shape once known. */
interface TensorBuilder {
  dtype: string;
  values: unknown[];
  dims: number[];
}

const VAL_FIELDS: Record<string, string> = {
  DT_FLOAT: "float_val",
  DT_DOUBLE: "double_val",
  DT_INT32: "int_val",
  DT_INT16: "int_val",
  DT_INT8: "int_val",
  DT_UINT8: "int_val",
  DT_STRING: "string_val",
  DT_INT64: "int64_val",
  DT_BOOL: "bool_val",
  DT_UINT32: "uint32_val",
  DT_UINT64: "uint64_val",
};

/** AddValueToTensor. */
function addValue(node: JsonNode, dtype: string, values: unknown[]): void {
  switch (dtype) {
    case "DT_FLOAT":
    case "DT_DOUBLE": {
      if (node.kind !== "number") throw typeError(node, dtype);
      const kind = dtype === "DT_FLOAT" ? "float" : "double";
      if (!isLosslessDecimal(node, kind))
        throw invalid(
          `Cannot convert JSON value: ${jsonValueToString(node)} to ${kind} without loss of precision.`,
        );
      values.push(kind === "float" ? Math.fround(node.value) : node.value);
      return;
    }
    case "DT_INT32":
    case "DT_INT16":
    case "DT_INT8":
    case "DT_UINT8":
      if (!isInt(node)) throw typeError(node, dtype);
      values.push(Number((node as { integer: bigint }).integer));
      return;
    case "DT_STRING":
      if (node.kind !== "string") throw typeError(node, dtype);
      values.push(Buffer.from(node.value, "utf8"));
      return;
    case "DT_INT64":
      if (!isInt64(node)) throw typeError(node, dtype);
      values.push((node as { integer: bigint }).integer.toString());
      return;
    case "DT_BOOL":
      if (node.kind !== "bool") throw typeError(node, dtype);
      values.push(node.value);
      return;
    case "DT_UINT32":
      if (!isUint(node)) throw typeError(node, dtype);
      values.push(Number((node as { integer: bigint }).integer));
      return;
    case "DT_UINT64":
      if (!isUint64(node)) throw typeError(node, dtype);
      values.push((node as { integer: bigint }).integer.toString());
      return;
    default:
      throw new ServingError(
        "UNIMPLEMENTED",
        `Conversion of JSON Value: ${jsonValueToString(node)} to type: ${dataTypeString(dtype)}`,
      );
  }
}

export function isBase64Object(node: JsonNode): boolean {
  return (
    node.kind === "object" &&
    node.members.length === 1 &&
    node.members[0]![0] === "b64" &&
    node.members[0]![1].kind === "string"
  );
}

/** absl::Base64Unescape: standard alphabet, padding optional. */
function decodeBase64Object(node: JsonNode): Buffer {
  if (!isBase64Object(node))
    throw invalid(`JSON Value: ${jsonValueToString(node)} not formatted correctly for base64 data`);
  const text = (node as { members: [string, { value: string }][] }).members[0]![1].value;
  const body = text.replace(/={1,2}$/, "");
  const padded = body.length !== text.length;
  if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1 || (padded && text.length % 4 !== 0))
    throw invalid("Unable to base64 decode");
  return Buffer.from(body, "base64");
}

function denseShape(node: JsonNode): number[] {
  const dims: number[] = [];
  for (let probe = node; probe.kind === "array"; probe = probe.items[0]!) {
    dims.push(probe.items.length);
    if (probe.items.length === 0) break;
  }
  return dims;
}

/** FillTensorProto: values must sit exactly at depth rank, every list the size of its dimension. */
function fillTensor(node: JsonNode, level: number, tensor: TensorBuilder): number {
  const rank = tensor.dims.length;
  if (node.kind !== "array") {
    if (level !== rank)
      throw invalid(
        `JSON Value: ${jsonValueToString(node)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${rank}`,
      );
    if (node.kind === "object") {
      if (tensor.dtype !== "DT_STRING") throw typeError(node, tensor.dtype);
      tensor.values.push(decodeBase64Object(node));
    } else addValue(node, tensor.dtype, tensor.values);
    return 1;
  }
  if (level >= rank) throw invalid(`Encountered list at unexpected level: ${level} expected < ${rank}`);
  if (node.items.length !== tensor.dims[level])
    throw invalid(
      `Encountered list at unexpected size: ${node.items.length} at level: ${level} expected size: ${tensor.dims[level]}`,
    );
  let count = 0;
  for (const item of node.items) count += fillTensor(item, level + 1, tensor);
  return count;
}

function shapeToString(dims: readonly number[]): string {
  return `[${dims.join(",")}]`;
}

function toProto(tensor: TensorBuilder): TensorProtoObject {
  const proto: TensorProtoObject = {
    dtype: tensor.dtype,
    tensor_shape: tensor.dims.length
      ? { dim: tensor.dims.map((size) => (size === 0 ? {} : { size: String(size) })) }
      : {},
  };
  const field = VAL_FIELDS[tensor.dtype];
  if (field && tensor.values.length) proto[field] = tensor.values;
  return proto;
}

function isElementObject(node: JsonNode): boolean {
  return node.kind === "object" && !isBase64Object(node);
}

/** FillTensorMapFromInstancesList. */
function fromInstances(
  instances: JsonNode[],
  infoMap: Record<string, TensorInfoPlain>,
): Record<string, TensorProtoObject> {
  const names = Object.keys(infoMap).sort();
  if (instances[0]!.kind !== "object" && names.length > 1)
    throw invalid(
      "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map",
    );
  const elementsAreObjects = isElementObject(instances[0]!);
  const tensors = new Map<string, TensorBuilder>();
  const sizes = new Map<string, { size: number; dims: number[] }>();

  const addItem = (item: JsonNode, name: string): void => {
    const info = infoMap[name];
    if (!info) throw invalid(`JSON object: does not have named input: ${name}`);
    let tensor = tensors.get(name);
    if (!tensor) tensors.set(name, (tensor = { dtype: info.dtype, values: [], dims: [] }));
    tensor.dims = denseShape(item);
    const size = fillTensor(item, 0, tensor);
    const seen = sizes.get(name);
    if (!seen) sizes.set(name, { size, dims: tensor.dims });
    else if (seen.size !== size) throw invalid(`Expecting tensor size: ${seen.size} but got: ${size}`);
    else if (shapeToString(seen.dims) !== shapeToString(tensor.dims))
      throw invalid(`Expecting shape ${shapeToString(seen.dims)} but got: ${shapeToString(tensor.dims)}`);
  };

  instances.forEach((element, index) => {
    if (elementsAreObjects) {
      if (!isElementObject(element))
        throw invalid(`Expecting object but got list at item ${index} of input list`);
      const keys = new Set<string>();
      for (const [name, value] of (element as { members: [string, JsonNode][] }).members) {
        keys.add(name);
        try {
          addItem(value, name);
        } catch (error) {
          if (!(error instanceof ServingError)) throw error;
          throw invalid(
            `Failed to process element: ${index} key: ${name} of 'instances' list. Error: ${statusToString(error)}`,
          );
        }
      }
      if (keys.size !== names.length || names.some((name) => !keys.has(name)))
        throw invalid(
          `Failed to process element: ${index} of 'instances' list. JSON object: ${jsonValueToString(element)} must only have keys: ${names.join(",")}`,
        );
    } else {
      if (isElementObject(element))
        throw invalid(`Expecting value/list but got object at item ${index} of input list`);
      try {
        addItem(element, names[0]!);
      } catch (error) {
        if (!(error instanceof ServingError)) throw error;
        throw invalid(
          `Failed to process element: ${index} of 'instances' list. Error: ${statusToString(error)}`,
        );
      }
    }
  });

  const inputs: Record<string, TensorProtoObject> = {};
  for (const [name, tensor] of tensors)
    inputs[name] = toProto({ ...tensor, dims: [instances.length, ...sizes.get(name)!.dims] });
  return inputs;
}

/** FillTensorMapFromInputsMap. */
function fromInputs(
  value: JsonNode,
  infoMap: Record<string, TensorInfoPlain>,
): Record<string, TensorProtoObject> {
  const names = Object.keys(infoMap).sort();
  const build = (node: JsonNode, name: string): TensorProtoObject => {
    const tensor: TensorBuilder = { dtype: infoMap[name]!.dtype, values: [], dims: denseShape(node) };
    fillTensor(node, 0, tensor);
    return toProto(tensor);
  };
  if (value.kind !== "object" || isBase64Object(value)) {
    if (names.length > 1)
      throw invalid(
        "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map",
      );
    return { [names[0]!]: build(value, names[0]!) };
  }
  const inputs: Record<string, TensorProtoObject> = {};
  for (const name of names) {
    const item = member(value, name);
    if (!item) throw invalid(`Missing named input: ${name} in 'inputs' object.`);
    inputs[name] = build(item, name);
  }
  return inputs;
}

/**
 * FillPredictRequestFromJson. `inputInfo(signatureName)` looks up the model and signature (and throws their
 * ServingErrors); it runs after the JSON is parsed, as in TF Serving.
 */
export function predictRequestFromJson(
  body: string,
  inputInfo: (signatureName: string) => Record<string, TensorInfoPlain>,
): JsonPredictRequest {
  const { doc, signatureName, formatError } = parseRequestEnvelope(body);
  const infoMap = inputInfo(signatureName);
  if (Object.keys(infoMap).length === 0)
    throw invalid(`Failed to get input map for signature: ${signatureName || "DEFAULT"}`);
  const instances = member(doc, "instances");
  const inputs = member(doc, "inputs");
  if (instances) {
    if (inputs)
      throw formatError(
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ",
      );
    if (instances.kind !== "array") throw formatError("Excepting 'instances' to be an list/array");
    if (instances.items.length === 0) throw formatError("No values in 'instances' array");
    return { signatureName, inputs: fromInstances(instances.items, infoMap), format: "row" };
  }
  if (inputs) return { signatureName, inputs: fromInputs(inputs, infoMap), format: "columnar" };
  throw invalid("Missing 'inputs' or 'instances' key");
}

interface OutputTensor {
  name: string;
  dtype: string;
  shape: number[];
  values: TensorValue[];
  asBytes: boolean;
  offset: number;
}

function writeSingleValue(writer: PrettyWriter, tensor: OutputTensor): void {
  const value = tensor.values[tensor.offset];
  switch (tensor.dtype) {
    case "DT_FLOAT":
      writer.raw(writeDecimal(value as number, "float"));
      break;
    case "DT_DOUBLE":
      writer.raw(writeDecimal(value as number, "double"));
      break;
    case "DT_INT32":
    case "DT_INT16":
    case "DT_INT8":
    case "DT_UINT8":
    case "DT_UINT32":
    case "DT_INT64":
    case "DT_UINT64":
      writer.raw(String(value));
      break;
    case "DT_BOOL":
      writer.raw(value ? "true" : "false");
      break;
    case "DT_STRING":
      if (tensor.asBytes) {
        writer.startObject();
        writer.key("b64");
        writer.string((value as Buffer).toString("base64"));
        writer.endObject();
      } else writer.string((value as Buffer).toString("utf8"));
      break;
    default:
      throw invalid(`Failed to write JSON value for tensor type: ${dataTypeString(tensor.dtype)}`);
  }
  tensor.offset++;
}

/** AddTensorValues: nested lists from dimension `dim` down; a scalar is written bare. */
function writeTensorValues(writer: PrettyWriter, tensor: OutputTensor, dim: number): void {
  const rank = tensor.shape.length;
  if (dim > rank - 1) return writeSingleValue(writer, tensor);
  writer.startArray();
  for (let i = 0; i < tensor.shape[dim]!; i++) {
    if (dim === rank - 1) writeSingleValue(writer, tensor);
    else writeTensorValues(writer, tensor, dim + 1);
  }
  writer.endArray();
}

function outputTensors(outputs: Record<string, TensorProtoObject>): OutputTensor[] {
  return Object.keys(outputs)
    .sort()
    .map((name) => {
      let decoded;
      try {
        decoded = decodeTensor(outputs[name]!, `output ${name}`);
      } catch {
        throw invalid(
          `Failed to write JSON value for tensor type: ${dataTypeString(String(outputs[name]!.dtype))}`,
        );
      }
      return {
        name,
        ...decoded,
        asBytes: decoded.dtype === "DT_STRING" && name.endsWith("_bytes"),
        offset: 0,
      };
    });
}

/** MakeJsonFromTensors: the reply body for a predict in `format`. */
export function predictResponseJson(
  outputs: Record<string, TensorProtoObject>,
  format: PredictFormat,
): string {
  const tensors = outputTensors(outputs);
  if (tensors.length === 0) throw invalid("Cannot convert empty tensor map to JSON");
  const writer = new PrettyWriter();
  const named = tensors.length > 1;
  writer.startObject();
  if (format === "columnar") {
    writer.key("outputs");
    if (named) writer.startObject();
    for (const tensor of tensors) {
      if (named) writer.key(tensor.name);
      writeTensorValues(writer, tensor, 0);
    }
    if (named) writer.endObject();
    writer.endObject();
    return writer.toString();
  }
  let batch = 0;
  for (const tensor of tensors) {
    if (tensor.shape.length === 0) throw invalid(`Tensor name: ${tensor.name} has no shape information `);
    const size = tensor.shape[0]!;
    if (size < 1) throw invalid(`Tensor name: ${tensor.name} has invalid batch size: ${size}`);
    if (batch !== 0 && batch !== size)
      throw invalid(`Tensor name: ${tensor.name} has inconsistent batch size: ${size} expecting: ${batch}`);
    batch = size;
  }
  writer.key("predictions");
  writer.startArray();
  for (let item = 0; item < batch; item++) {
    if (named) writer.startObject();
    writer.singleLineArrays = true;
    for (const tensor of tensors) {
      if (named) writer.key(tensor.name);
      writeTensorValues(writer, tensor, 1);
    }
    writer.singleLineArrays = false;
    if (named) writer.endObject();
  }
  writer.endArray();
  writer.endObject();
  return writer.toString();
}
