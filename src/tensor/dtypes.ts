import { UsageError } from "../errors.js";

/** The repeated TensorProto field that carries a dtype's values (facts §2, TF `tensor.cc` AsProtoField). */
export type ValField =
  | "float_val"
  | "double_val"
  | "int_val"
  | "string_val"
  | "scomplex_val"
  | "int64_val"
  | "bool_val"
  | "dcomplex_val"
  | "half_val"
  | "uint32_val"
  | "uint64_val"
  | "float8_val";

export interface DTypeInfo {
  /** Enum name as in types.proto, e.g. "DT_FLOAT". */
  readonly name: string;
  readonly number: number;
  /** Bytes per element in `tensor_content`; undefined for strings, resources, variants and sub-byte types. */
  readonly byteSize: number | undefined;
  readonly valField: ValField | undefined;
}

function info(name: string, number: number, byteSize: number | undefined, valField?: ValField): DTypeInfo {
  return { name, number, byteSize, valField };
}

/** Every non-reference DataType of tensorflow/core/framework/types.proto (facts §2). */
export const BASE_DTYPES: readonly DTypeInfo[] = [
  info("DT_INVALID", 0, undefined),
  info("DT_FLOAT", 1, 4, "float_val"),
  info("DT_DOUBLE", 2, 8, "double_val"),
  info("DT_INT32", 3, 4, "int_val"),
  info("DT_UINT8", 4, 1, "int_val"),
  info("DT_INT16", 5, 2, "int_val"),
  info("DT_INT8", 6, 1, "int_val"),
  info("DT_STRING", 7, undefined, "string_val"),
  info("DT_COMPLEX64", 8, 8, "scomplex_val"),
  info("DT_INT64", 9, 8, "int64_val"),
  info("DT_BOOL", 10, 1, "bool_val"),
  info("DT_QINT8", 11, 1, "int_val"),
  info("DT_QUINT8", 12, 1, "int_val"),
  info("DT_QINT32", 13, 4, "int_val"),
  info("DT_BFLOAT16", 14, 2, "half_val"),
  info("DT_QINT16", 15, 2, "int_val"),
  info("DT_QUINT16", 16, 2, "int_val"),
  info("DT_UINT16", 17, 2, "int_val"),
  info("DT_COMPLEX128", 18, 16, "dcomplex_val"),
  info("DT_HALF", 19, 2, "half_val"),
  info("DT_RESOURCE", 20, undefined),
  info("DT_VARIANT", 21, undefined),
  info("DT_UINT32", 22, 4, "uint32_val"),
  info("DT_UINT64", 23, 8, "uint64_val"),
  info("DT_FLOAT8_E5M2", 24, 1, "float8_val"),
  info("DT_FLOAT8_E4M3FN", 25, 1, "float8_val"),
  info("DT_FLOAT8_E4M3FNUZ", 26, 1, "float8_val"),
  info("DT_FLOAT8_E4M3B11FNUZ", 27, 1, "float8_val"),
  info("DT_FLOAT8_E5M2FNUZ", 28, 1, "float8_val"),
  info("DT_INT4", 29, undefined),
  info("DT_UINT4", 30, undefined),
  info("DT_INT2", 31, undefined),
  info("DT_UINT2", 32, undefined),
];

/** `*_REF` types are the base value + 100; types.proto defines them only up to DT_FLOAT8_E4M3FN_REF (125). */
export const REF_OFFSET = 100;
const LAST_REF_BASE = 25;

const byNumber = new Map<number, DTypeInfo>();
const byName = new Map<string, DTypeInfo>();
for (const base of BASE_DTYPES) {
  byNumber.set(base.number, base);
  byName.set(base.name, base);
  if (base.number >= 1 && base.number <= LAST_REF_BASE) {
    const ref = info(`${base.name}_REF`, base.number + REF_OFFSET, base.byteSize, base.valField);
    byNumber.set(ref.number, ref);
    byName.set(ref.name, ref);
  }
}

/** All DataType entries, reference types included, in enum order. */
export function allDTypes(): DTypeInfo[] {
  return [...byNumber.values()].sort((a, b) => a.number - b.number);
}

export function isRefDType(dtype: DTypeInfo): boolean {
  return dtype.number > REF_OFFSET;
}

/** The non-reference type of `dtype` (DT_FLOAT_REF → DT_FLOAT); non-reference types map to themselves. */
export function baseDType(dtype: DTypeInfo): DTypeInfo {
  return isRefDType(dtype) ? byNumber.get(dtype.number - REF_OFFSET)! : dtype;
}

/**
 * Looks a DataType up by enum name ("DT_FLOAT"), short lowercase name ("float", "int64", "float_ref") or number.
 * Throws a UsageError naming the bad value and listing what is accepted.
 */
export function dtypeOf(nameOrNumber: string | number, where?: string): DTypeInfo {
  const found =
    typeof nameOrNumber === "number"
      ? byNumber.get(nameOrNumber)
      : (byName.get(nameOrNumber) ?? byName.get(`DT_${nameOrNumber.toUpperCase()}`));
  if (found) return found;
  throw new UsageError(`unknown TensorFlow dtype ${JSON.stringify(nameOrNumber)}`, {
    where,
    hint: `use a DataType name from types.proto such as DT_FLOAT, DT_INT64, DT_STRING (or float, int64, string), or its number (0-${LAST_REF_BASE + REF_OFFSET})`,
  });
}

/** "DT_FLOAT" → "float": the short name TF itself prints (DataTypeString). */
export function shortDTypeName(dtype: DTypeInfo): string {
  return dtype.name.replace(/^DT_/, "").toLowerCase();
}
