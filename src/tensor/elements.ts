import { UsageError } from "../errors.js";
import type { DTypeInfo, ValField } from "./dtypes.js";
import { bfloat16BitsToNumber, halfBitsToNumber, numberToBfloat16Bits, numberToHalfBits } from "./half.js";

/** One decoded element: numbers for float and ≤32-bit integer types, bigint for 64-bit, Buffer for strings. */
export type TensorValue = number | bigint | boolean | Buffer;

/** How one dtype's elements move between JS values, its `*_val` field entries and `tensor_content` bytes. */
export interface ElementCodec {
  readonly valField: ValField;
  /** Checks and normalises a user value for encoding; undefined when the value does not fit the dtype. */
  fromJs(value: unknown): TensorValue | undefined;
  /** What fromJs accepts, for error hints. */
  readonly expected: string;
  /** Entry of the `*_val` field in canonical form (int64 as decimal string, half as raw bits). */
  toField(value: TensorValue): number | string | boolean | Buffer;
  fromField(entry: unknown): TensorValue;
  write(target: Buffer, offset: number, value: TensorValue): void;
  read(source: Buffer, offset: number): TensorValue;
  readonly zero: TensorValue;
}

function integerCodec(
  min: number,
  max: number,
  valField: ValField,
  write: (b: Buffer, v: number, o: number) => unknown,
  read: (b: Buffer, o: number) => number,
): ElementCodec {
  // TF reads int_val entries with static_cast<T>, so out-of-range entries wrap like a C cast.
  const bits = Math.log2(max - min + 1);
  const wrap = (n: number): number => {
    if (bits >= 32) return min < 0 ? n | 0 : n >>> 0;
    const unsigned = n & (2 ** bits - 1);
    return min < 0 && unsigned > max ? unsigned - 2 ** bits : unsigned;
  };
  return {
    valField,
    expected: `a whole number from ${min} to ${max}`,
    fromJs: (value) =>
      typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
        ? value
        : undefined,
    toField: (v) => v as number,
    fromField: (entry) => wrap(Number(entry)),
    write: (b, o, v) => write(b, v as number, o),
    read,
    zero: 0,
  };
}

function floatCodec(valField: ValField, size: 4 | 8): ElementCodec {
  const round = size === 4 ? Math.fround : (n: number) => n;
  return {
    valField,
    expected: "a number (NaN and ±Infinity allowed)",
    fromJs: (value) => (typeof value === "number" ? round(value) : undefined),
    toField: (v) => v as number,
    fromField: (entry) => Number(entry),
    write: (b, o, v) => (size === 4 ? b.writeFloatLE(v as number, o) : b.writeDoubleLE(v as number, o)),
    read: (b, o) => (size === 4 ? b.readFloatLE(o) : b.readDoubleLE(o)),
    zero: 0,
  };
}

function int64Codec(signed: boolean): ElementCodec {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return {
    valField: signed ? "int64_val" : "uint64_val",
    expected: `a bigint, safe integer or decimal string from ${min} to ${max} (numbers beyond 2^53 have already lost precision: pass a bigint or a string)`,
    fromJs(value) {
      let big: bigint | undefined;
      if (typeof value === "bigint") big = value;
      else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === "string" && /^-?\d+$/.test(value)) big = BigInt(value);
      return big !== undefined && big >= min && big <= max ? big : undefined;
    },
    toField: (v) => (v as bigint).toString(),
    fromField: (entry) =>
      signed ? BigInt.asIntN(64, BigInt(entry as string)) : BigInt.asUintN(64, BigInt(entry as string)),
    write: (b, o, v) => (signed ? b.writeBigInt64LE(v as bigint, o) : b.writeBigUInt64LE(v as bigint, o)),
    read: (b, o) => (signed ? b.readBigInt64LE(o) : b.readBigUInt64LE(o)),
    zero: 0n,
  };
}

function sixteenBitFloatCodec(
  dtype: string,
  toBits: (n: number) => number,
  fromBits: (bits: number) => number,
): ElementCodec {
  return {
    valField: "half_val",
    expected: `a number (NaN and ±Infinity allowed; rounded to the nearest ${dtype} value)`,
    fromJs: (value) => (typeof value === "number" ? fromBits(toBits(value)) : undefined),
    toField: (v) => toBits(v as number),
    fromField: (entry) => fromBits(Number(entry) & 0xffff),
    write: (b, o, v) => b.writeUInt16LE(toBits(v as number), o),
    read: (b, o) => fromBits(b.readUInt16LE(o)),
    zero: 0,
  };
}

const boolCodec: ElementCodec = {
  valField: "bool_val",
  expected: "true or false",
  fromJs: (value) => (typeof value === "boolean" ? value : undefined),
  toField: (v) => v as boolean,
  fromField: (entry) => Boolean(entry),
  write: (b, o, v) => b.writeUInt8(v ? 1 : 0, o),
  read: (b, o) => b.readUInt8(o) !== 0,
  zero: false,
};

const stringCodec: ElementCodec = {
  valField: "string_val",
  expected: "a string (sent as UTF-8) or a Buffer/Uint8Array of bytes",
  fromJs(value) {
    if (typeof value === "string") return Buffer.from(value, "utf8");
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return undefined;
  },
  toField: (v) => v as Buffer,
  fromField: (entry) => (Buffer.isBuffer(entry) ? entry : Buffer.from(entry as Uint8Array | string)),
  write: () => {
    throw new Error("DT_STRING has no tensor_content form");
  },
  read: () => {
    throw new Error("DT_STRING has no tensor_content form");
  },
  zero: Buffer.alloc(0),
};

const CODECS: Record<string, ElementCodec> = {
  DT_FLOAT: floatCodec("float_val", 4),
  DT_DOUBLE: floatCodec("double_val", 8),
  DT_INT8: integerCodec(
    -128,
    127,
    "int_val",
    (b, v, o) => b.writeInt8(v, o),
    (b, o) => b.readInt8(o),
  ),
  DT_UINT8: integerCodec(
    0,
    255,
    "int_val",
    (b, v, o) => b.writeUInt8(v, o),
    (b, o) => b.readUInt8(o),
  ),
  DT_INT16: integerCodec(
    -32768,
    32767,
    "int_val",
    (b, v, o) => b.writeInt16LE(v, o),
    (b, o) => b.readInt16LE(o),
  ),
  DT_UINT16: integerCodec(
    0,
    65535,
    "int_val",
    (b, v, o) => b.writeUInt16LE(v, o),
    (b, o) => b.readUInt16LE(o),
  ),
  DT_INT32: integerCodec(
    -(2 ** 31),
    2 ** 31 - 1,
    "int_val",
    (b, v, o) => b.writeInt32LE(v, o),
    (b, o) => b.readInt32LE(o),
  ),
  DT_UINT32: integerCodec(
    0,
    2 ** 32 - 1,
    "uint32_val",
    (b, v, o) => b.writeUInt32LE(v, o),
    (b, o) => b.readUInt32LE(o),
  ),
  DT_INT64: int64Codec(true),
  DT_UINT64: int64Codec(false),
  DT_BOOL: boolCodec,
  DT_STRING: stringCodec,
  DT_HALF: sixteenBitFloatCodec("DT_HALF", numberToHalfBits, halfBitsToNumber),
  DT_BFLOAT16: sixteenBitFloatCodec("DT_BFLOAT16", numberToBfloat16Bits, bfloat16BitsToNumber),
};

/** The dtypes the codec converts; others (complex, quantized, float8, resource, variant) are refused clearly. */
export const SUPPORTED_DTYPES = Object.keys(CODECS);

export function elementCodec(dtype: DTypeInfo, where?: string): ElementCodec {
  const codec = CODECS[dtype.name];
  if (codec) return codec;
  throw new UsageError(`dtype ${dtype.name} is not supported by the tensor codec`, {
    where,
    hint: `supported: ${SUPPORTED_DTYPES.join(", ")}`,
  });
}
