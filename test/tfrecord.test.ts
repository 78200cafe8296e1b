import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeTfRecord, readTfRecords, TfRecordError } from "../src/warmup/tfrecord.js";

const three = Buffer.concat(
  [Buffer.from("a"), Buffer.from(""), Buffer.from("ccc")].map((d) => encodeTfRecord(d)),
);

function expectError(buffer: Buffer, index: number, offset: number, pattern: RegExp): void {
  assert.throws(
    () => readTfRecords(buffer),
    (error: unknown) =>
      error instanceof TfRecordError &&
      error.index === index &&
      error.offset === offset &&
      pattern.test(error.message),
  );
}

test("records round-trip with their index and offset (16 framing bytes each)", () => {
  const { records, more } = readTfRecords(three);
  assert.equal(more, false);
  assert.deepEqual(
    records.map((r) => [r.index, r.offset, r.data.toString()]),
    [
      [0, 0, "a"],
      [1, 17, ""],
      [2, 33, "ccc"],
    ],
  );
  assert.deepEqual(readTfRecords(Buffer.alloc(0)), { records: [], more: false });
});

test("maxRecords stops early and says more bytes follow", () => {
  const { records, more } = readTfRecords(three, 2);
  assert.equal(records.length, 2);
  assert.equal(more, true);
});

test("a flipped length byte is a length CRC error at that record", () => {
  const bad = Buffer.from(three);
  bad.writeUInt8(bad.readUInt8(17) ^ 0x01, 17);
  expectError(bad, 1, 17, /length CRC/);
});

test("a flipped data byte is a data CRC error at that record", () => {
  const bad = Buffer.from(three);
  bad.writeUInt8(bad.readUInt8(33 + 12 + 1) ^ 0x40, 33 + 12 + 1);
  expectError(bad, 2, 33, /data CRC/);
});

test("truncation in a header or in the data is reported as truncated", () => {
  expectError(three.subarray(0, 17 + 5), 1, 17, /truncated record header/);
  expectError(three.subarray(0, three.length - 2), 2, 33, /truncated record: needs 3 data bytes/);
});
