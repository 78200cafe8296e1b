import { UsageError } from "../errors.js";
import { baseDType, dtypeOf, type DTypeInfo } from "./dtypes.js";
import { elementCodec, type ElementCodec, type TensorValue } from "./elements.js";
import { describe, elementCount, flattenNested } from "./shape.js";

export { nestByShape } from "./shape.js";
export type { TensorValue } from "./elements.js";

/**
 * tensorflow.TensorProto in the project's canonical plain-object form (protobufjs toObject with longs: String,
 * enums: String): dim sizes and int64 values as decimal strings, dtype as its enum name, bytes as Buffer, unset
 * fields absent.
 */
export interface TensorProtoObject {
  dtype?: string | number;
  tensor_shape?: { dim?: { size?: string | number; name?: string }[]; unknown_rank?: boolean };
  version_number?: number;
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: (string | number)[];
  bool_val?: boolean[];
  half_val?: number[];
  uint32_val?: number[];
  uint64_val?: (string | number)[];
  [field: string]: unknown;
}

export interface DecodedTensor {
  /** Enum name, e.g. "DT_FLOAT" (a `_REF` dtype is reported as its base type). */
  dtype: string;
  shape: number[];
  /** Row-major; see `nestByShape` for nested arrays. */
  values: TensorValue[];
}

export interface EncodeOptions {
  /** "DT_FLOAT", "float" or the enum number; optional only for typed arrays, whose element type implies it. */
  dtype?: string | number;
  /** Required for flat/typed-array values; for nested arrays it must match their element count when given. */
  shape?: readonly number[];
  /** Pack values little-endian into `tensor_content` instead of the typed `*_val` field (not for DT_STRING). */
  tensorContent?: boolean;
  /** Where the values came from, for error messages (file, request, input name). */
  where?: string;
}

type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const TYPED_ARRAY_DTYPES: [abstract new (...args: never[]) => TypedArray, string][] = [
  [Float32Array, "DT_FLOAT"],
  [Float64Array, "DT_DOUBLE"],
  [Int8Array, "DT_INT8"],
  [Uint8Array, "DT_UINT8"],
  [Int16Array, "DT_INT16"],
  [Uint16Array, "DT_UINT16"],
  [Int32Array, "DT_INT32"],
  [Uint32Array, "DT_UINT32"],
  [BigInt64Array, "DT_INT64"],
  [BigUint64Array, "DT_UINT64"],
];

function typedArrayDType(values: unknown): string | undefined {
  return TYPED_ARRAY_DTYPES.find(([ctor]) => values instanceof ctor)?.[1];
}

function isTypedArray(values: unknown): values is TypedArray {
  return ArrayBuffer.isView(values) && !(values instanceof DataView);
}

function flatIndexPath(index: number, shape: readonly number[]): string {
  const parts: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const dim = shape[axis]!;
    parts.unshift(index % dim);
    index = Math.floor(index / dim);
  }
  return `values${parts.map((p) => `[${p}]`).join("")}`;
}

function resolveDType(values: unknown, options: EncodeOptions): DTypeInfo {
  const name = options.dtype ?? typedArrayDType(values);
  if (name === undefined)
    throw new UsageError("no dtype given for the tensor values", {
      where: options.where,
      hint: 'pass a dtype such as "DT_FLOAT" (only typed arrays imply one)',
    });
  return baseDType(dtypeOf(name, options.where));
}

function flatValues(
  values: unknown,
  dtype: DTypeInfo,
  options: EncodeOptions,
): { shape: number[]; flat: unknown[] } {
  const isStringDType = dtype.name === "DT_STRING";
  if (isTypedArray(values) && !isStringDType) {
    const flat = Array.from(values as ArrayLike<unknown>);
    return { shape: options.shape ? [...options.shape] : [flat.length], flat };
  }
  const { shape, values: flat } = flattenNested<unknown>(
    values,
    (v): v is unknown => !Array.isArray(v),
    options.where,
  );
  return { shape: options.shape ? [...options.shape] : shape, flat };
}

/** Plain JS values → TensorProto (canonical plain-object form). Strict: the value count must fill the shape. */
export function encodeTensor(values: unknown, options: EncodeOptions = {}): TensorProtoObject {
  const dtype = resolveDType(values, options);
  const codec = elementCodec(dtype, options.where);
  const { shape, flat } = flatValues(values, dtype, options);
  const count = elementCount(shape, options.where);
  if (flat.length !== count)
    throw new UsageError(
      `${flat.length} values given for shape [${shape.join(", ")}], which holds ${count}`,
      { where: options.where, hint: "give exactly one value per element (the product of the dimensions)" },
    );
  const normalised = flat.map((value, i) => {
    const element = codec.fromJs(value);
    if (element === undefined)
      throw new UsageError(
        `${flatIndexPath(i, shape)} is ${describe(value)}, not a valid ${dtype.name} value`,
        {
          where: options.where,
          hint: `expected ${codec.expected}`,
        },
      );
    return element;
  });
  const proto: TensorProtoObject = {
    dtype: dtype.name,
    tensor_shape: shape.length
      ? { dim: shape.map((size) => (size === 0 ? {} : { size: String(size) })) }
      : {},
  };
  if (options.tensorContent) {
    if (dtype.byteSize === undefined)
      throw new UsageError(`${dtype.name} has no tensor_content form`, {
        where: options.where,
        hint: "encode strings with string_val (leave tensorContent off)",
      });
    if (count > 0) proto.tensor_content = packContent(normalised, codec, dtype.byteSize);
  } else if (count > 0) {
    (proto as Record<string, unknown>)[codec.valField] = normalised.map((v) => codec.toField(v));
  }
  return proto;
}

function packContent(values: readonly TensorValue[], codec: ElementCodec, byteSize: number): Buffer {
  const content = Buffer.alloc(values.length * byteSize);
  values.forEach((value, i) => codec.write(content, i * byteSize, value));
  return content;
}

function decodeShape(proto: TensorProtoObject, where?: string): number[] {
  const shape = proto.tensor_shape;
  if (shape?.unknown_rank)
    throw new UsageError("tensor_shape has unknown_rank set; a tensor value needs a known shape", { where });
  return (shape?.dim ?? []).map((d) => Number(d.size ?? 0));
}

/**
 * TensorProto → flat values, the way TF's Tensor::FromProto reads it: `tensor_content` (little-endian) when
 * non-empty, otherwise the dtype's `*_val` field with TF's fill rule (facts §2): extra values are ignored, a
 * short list repeats its last value, an empty list means zeros / empty strings / false.
 */
export function decodeTensor(proto: TensorProtoObject, where?: string): DecodedTensor {
  const dtype = baseDType(dtypeOf(proto.dtype ?? 0, where));
  if (dtype.number === 0)
    throw new UsageError("TensorProto has no dtype (DT_INVALID)", {
      where,
      hint: "set dtype, e.g. DT_FLOAT",
    });
  const codec = elementCodec(dtype, where);
  const shape = decodeShape(proto, where);
  const count = elementCount(shape, where);
  const content = proto.tensor_content;
  if (content && content.length > 0) {
    return {
      dtype: dtype.name,
      shape,
      values: unpackContent(Buffer.from(content), dtype, codec, count, where),
    };
  }
  const entries = (proto[codec.valField] as unknown[] | undefined) ?? [];
  const values: TensorValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    values[i] = entries.length === 0 ? codec.zero : codec.fromField(entries[Math.min(i, entries.length - 1)]);
  }
  return { dtype: dtype.name, shape, values };
}

function unpackContent(
  content: Buffer,
  dtype: DTypeInfo,
  codec: ElementCodec,
  count: number,
  where?: string,
): TensorValue[] {
  const size = dtype.byteSize;
  if (size === undefined)
    throw new UsageError(`${dtype.name} cannot be carried in tensor_content`, {
      where,
      hint: "strings travel in string_val",
    });
  if (content.length % size !== 0)
    throw new UsageError(
      `tensor_content is ${content.length} bytes, not a multiple of the ${size}-byte ${dtype.name} element`,
      { where, hint: "the bytes are truncated or the dtype is wrong" },
    );
  if (content.length / size !== count)
    throw new UsageError(
      `tensor_content holds ${content.length / size} ${dtype.name} elements but the shape needs ${count}`,
      {
        where,
        hint: "tensor_content must hold exactly one element per shape position (no fill rule applies)",
      },
    );
  const values: TensorValue[] = new Array(count);
  for (let i = 0; i < count; i++) values[i] = codec.read(content, i * size);
  return values;
}
