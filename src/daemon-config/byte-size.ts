/**
 * Byte sizes in the daemon config: a whole number of bytes, or a number with a binary unit, without spaces:
 * `4194304`, `512KiB`, `64MiB`, `1GiB`. Decimal units (`MB`) are rejected: gRPC limits are powers of two and a
 * silent 1000-vs-1024 mix-up is not worth the convenience.
 */
const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
const SIZE = /^(\d+)(B|KiB|MiB|GiB)$/;

export const BYTE_SIZE_HINT =
  "write a whole number of bytes or a number with a binary unit: 4194304, 512KiB, 64MiB";

export type ByteSizeResult = { ok: true; bytes: number } | { ok: false; reason: string };

export function parseByteSize(value: unknown): ByteSizeResult {
  let bytes: number;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const match = SIZE.exec(value);
    if (!match) return { ok: false, reason: "is not a byte size" };
    bytes = Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES];
  } else return { ok: false, reason: "is not a byte size" };
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    return { ok: false, reason: "is not a positive whole number" };
  // gRPC channel options are 32-bit signed integers.
  if (bytes > 2 ** 31 - 1) return { ok: false, reason: "is larger than gRPC allows (2 GiB - 1)" };
  return { ok: true, bytes };
}
