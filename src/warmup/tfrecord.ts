import { maskedCrc32c } from "./crc32c.js";

/**
 * TFRecord framing (TF record_writer.cc), no file header, records simply concatenated:
 * uint64 LE length | uint32 LE masked_crc32c(length bytes) | data | uint32 LE masked_crc32c(data).
 */
const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

/** A framing or checksum error; `index` is the 0-based record number, `offset` the byte where it starts. */
export class TfRecordError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly offset: number,
  ) {
    super(message);
    this.name = "TfRecordError";
  }
}

export interface TfRecord {
  index: number;
  /** Byte offset of the record's length field. */
  offset: number;
  data: Buffer;
}

/** Reads up to `maxRecords` records; `more` tells whether bytes remain after them. Checks both CRCs. */
export function readTfRecords(buffer: Buffer, maxRecords = Infinity): { records: TfRecord[]; more: boolean } {
  const records: TfRecord[] = [];
  let offset = 0;
  while (offset < buffer.length && records.length < maxRecords) {
    const index = records.length;
    if (buffer.length - offset < HEADER_BYTES) {
      throw new TfRecordError(
        `truncated record header (${buffer.length - offset} of ${HEADER_BYTES} bytes)`,
        index,
        offset,
      );
    }
    const lengthBytes = buffer.subarray(offset, offset + 8);
    if (buffer.readUInt32LE(offset + 8) !== maskedCrc32c(lengthBytes)) {
      throw new TfRecordError("corrupted record: length CRC mismatch", index, offset);
    }
    const length = buffer.readBigUInt64LE(offset);
    const dataStart = offset + HEADER_BYTES;
    const available = buffer.length - dataStart;
    if (length + BigInt(FOOTER_BYTES) > BigInt(available)) {
      throw new TfRecordError(
        `truncated record: needs ${length} data bytes + ${FOOTER_BYTES} CRC bytes, ${available} remain`,
        index,
        offset,
      );
    }
    const dataEnd = dataStart + Number(length);
    const data = buffer.subarray(dataStart, dataEnd);
    if (buffer.readUInt32LE(dataEnd) !== maskedCrc32c(data)) {
      throw new TfRecordError("corrupted record: data CRC mismatch", index, offset);
    }
    records.push({ index, offset, data });
    offset = dataEnd + FOOTER_BYTES;
  }
  return { records, more: offset < buffer.length };
}

/** Frames one record. */
export function encodeTfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(FOOTER_BYTES);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}
