import CRC32C from "crc-32/crc32c.js";

/** CRC-32C (Castagnoli) of bytes or of a string's UTF-8 encoding, as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array | string): number {
  return (typeof data === "string" ? CRC32C.str(data) : CRC32C.buf(data)) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** TFRecord's masked CRC: rotate right by 15 bits, add a constant (uint32 arithmetic). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
