import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  bufferSource,
  encodeVarint,
  FileSource,
  lengthDelimitedHeader,
  readVarint,
  toInt64,
  walkFields,
  WireFormatError,
} from "../src/savedmodel/proto-wire.js";

test("varints round-trip, and -1 is a 10-byte varint that sign-fixes to -1", () => {
  for (const value of [0n, 1n, 127n, 128n, 300n, 2n ** 53n + 1n]) {
    const bytes = encodeVarint(value);
    assert.deepEqual(readVarint(bufferSource(bytes), 0, bytes.length), [value, bytes.length]);
  }
  const minusOne = encodeVarint(-1);
  assert.equal(minusOne.length, 10);
  const [raw] = readVarint(bufferSource(minusOne), 0, minusOne.length);
  assert.equal(raw, 2n ** 64n - 1n);
  assert.equal(toInt64(raw), -1n);
});

test("walkFields yields every wire type with absolute offsets and does not read length-delimited payloads", () => {
  const payload = Buffer.from("hello");
  const fixed32 = Buffer.from([1, 2, 3, 4]);
  const fixed64 = Buffer.alloc(8, 7);
  const bytes = Buffer.concat([
    encodeVarint((1 << 3) | 0),
    encodeVarint(150),
    lengthDelimitedHeader(2, payload.length),
    payload,
    encodeVarint((3 << 3) | 5),
    fixed32,
    encodeVarint((4 << 3) | 1),
    fixed64,
  ]);
  const read: number[] = [];
  const source = {
    size: bytes.length,
    bytes(offset: number, length: number) {
      read.push(offset);
      return bytes.subarray(offset, offset + length);
    },
  };
  const fields = [...walkFields(source)];
  assert.deepEqual(
    fields.map((f) => [f.field, f.wireType, f.offset]),
    [
      [1, 0, 0],
      [2, 2, 3],
      [3, 5, 10],
      [4, 1, 15],
    ],
  );
  const text = fields[1]!;
  assert.ok(text.wireType === 2);
  assert.equal(bytes.subarray(text.start, text.end).toString(), "hello");
  assert.ok(fields[0]!.wireType === 0 && fields[0]!.value === 150n);
  // The payload "hello" starts at 5; no read started inside it.
  assert.ok(!read.some((offset) => offset > 5 && offset < 10));
});

test("a length running past the end is a WireFormatError at the field's offset", () => {
  const bytes = Buffer.concat([
    encodeVarint(8),
    encodeVarint(1),
    lengthDelimitedHeader(2, 100),
    Buffer.alloc(10),
  ]);
  assert.throws(
    () => [...walkFields(bufferSource(bytes))],
    (error: unknown) =>
      error instanceof WireFormatError && error.offset === 2 && /claims 100 bytes/.test(error.message),
  );
});

test("a truncated varint, field number 0 and group wire types are rejected", () => {
  assert.throws(() => [...walkFields(bufferSource(Buffer.from([0x08, 0x80])))], /truncated varint/);
  assert.throws(() => [...walkFields(bufferSource(Buffer.from([0x00, 0x01])))], /field number 0/);
  assert.throws(() => [...walkFields(bufferSource(Buffer.from([0x0b])))], /unsupported wire type 3/);
});

test("FileSource reads the same fields as a buffer, across its block boundary", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "proto-wire-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = Buffer.alloc(100_000, 0x41);
  const bytes = Buffer.concat([
    lengthDelimitedHeader(1, big.length),
    big,
    encodeVarint(2 << 3),
    encodeVarint(42),
  ]);
  const path = join(dir, "msg.bin");
  writeFileSync(path, bytes);
  const source = new FileSource(path);
  try {
    const fields = [...walkFields(source)];
    assert.equal(fields.length, 2);
    assert.ok(fields[1]!.wireType === 0 && fields[1]!.value === 42n);
    assert.equal(source.bytes(fields[0]!.offset + 3 + 65_530, 10).toString(), "A".repeat(10));
  } finally {
    source.close();
  }
});
