import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * A minimal protobuf wire-format walker that can SKIP fields by their length without reading them, so a
 * saved_model.pb whose graph_def is hundreds of MB is inspected by reading only the few bytes that matter.
 */

export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** Malformed or truncated wire data; `offset` is the absolute byte offset in the source. */
export class WireFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "WireFormatError";
  }
}

/** Random access to bytes: a Buffer in memory, or a file read on demand. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (the caller has checked the range). May be a view: do not mutate. */
  bytes(offset: number, length: number): Buffer;
}

export function bufferSource(buffer: Buffer): ByteSource {
  return { size: buffer.length, bytes: (offset, length) => buffer.subarray(offset, offset + length) };
}

const FILE_BLOCK = 64 * 1024;

/** A file read with positional reads through one cached block; close() it when done. */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  private block = Buffer.alloc(0);
  private blockStart = 0;

  constructor(path: string) {
    this.fd = openSync(path, "r");
    this.size = fstatSync(this.fd).size;
  }

  bytes(offset: number, length: number): Buffer {
    if (offset >= this.blockStart && offset + length <= this.blockStart + this.block.length) {
      return this.block.subarray(offset - this.blockStart, offset - this.blockStart + length);
    }
    const want = Math.min(Math.max(length, FILE_BLOCK), this.size - offset);
    const block = Buffer.allocUnsafe(want);
    let done = 0;
    while (done < want) {
      const n = readSync(this.fd, block, done, want - done, offset + done);
      if (n === 0) throw new WireFormatError("file shrank while being read", offset + done);
      done += n;
    }
    this.block = block;
    this.blockStart = offset;
    return block.subarray(0, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** One field as met on the wire. Length-delimited payloads are NOT read: only their range is given. */
export type WireField =
  | { field: number; wireType: 0; offset: number; value: bigint }
  | { field: number; wireType: 1 | 5; offset: number; start: number; end: number }
  | { field: number; wireType: 2; offset: number; start: number; end: number };

/** Walks the fields of one message occupying [start, end) of `source`. */
export function* walkFields(source: ByteSource, start = 0, end = source.size): Generator<WireField> {
  let pos = start;
  while (pos < end) {
    const offset = pos;
    const [tag, afterTag] = readVarint(source, pos, end);
    pos = afterTag;
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new WireFormatError("invalid field number 0", offset);
    switch (wireType) {
      case WireType.varint: {
        const [value, next] = readVarint(source, pos, end);
        pos = next;
        yield { field, wireType, offset, value };
        break;
      }
      case WireType.fixed64:
      case WireType.fixed32: {
        const width = wireType === WireType.fixed64 ? 8 : 4;
        if (pos + width > end) throw new WireFormatError(`truncated ${width}-byte field ${field}`, offset);
        yield { field, wireType, offset, start: pos, end: pos + width };
        pos += width;
        break;
      }
      case WireType.lengthDelimited: {
        const [length, next] = readVarint(source, pos, end);
        if (length > BigInt(end - next)) {
          throw new WireFormatError(
            `field ${field} claims ${length} bytes but only ${end - next} remain (truncated or corrupt)`,
            offset,
          );
        }
        pos = next + Number(length);
        yield { field, wireType, offset, start: next, end: pos };
        break;
      }
      default:
        // Groups (3, 4) are deprecated and never used by the TF protos we read.
        throw new WireFormatError(`unsupported wire type ${wireType} for field ${field}`, offset);
    }
  }
}

/** Reads a varint at `pos` (at most 10 bytes, not past `end`); returns its unsigned 64-bit value and the next pos. */
export function readVarint(source: ByteSource, pos: number, end: number): [bigint, number] {
  const available = Math.min(10, end - pos);
  const bytes = available > 0 ? source.bytes(pos, available) : Buffer.alloc(0);
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [BigInt.asUintN(64, value), pos + i + 1];
  }
  throw new WireFormatError(available < 10 ? "truncated varint" : "varint longer than 10 bytes", pos);
}

/** An int64 field read as a varint: 2^64-1 is -1 (sign fix for negative sizes written as 10-byte varints). */
export function toInt64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** Encodes an unsigned varint (lengths and tags in our writers). */
export function encodeVarint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

/** The tag + length prefix of a length-delimited field. */
export function lengthDelimitedHeader(field: number, length: number): Buffer {
  return Buffer.concat([encodeVarint((field << 3) | WireType.lengthDelimited), encodeVarint(length)]);
}
