import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from "../src/warmup/crc32c.js";

test("crc32c check value: crc32c('123456789') = 0xE3069283", () => {
  assert.equal(crc32c("123456789"), 0xe3069283);
  assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
});

test("crc32c of known vectors (RFC 3720 B.4: 32 zero bytes, 32 0xFF bytes)", () => {
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(""), 0);
});

test("the TFRecord mask matches TF's formula and unmask inverts it", () => {
  for (const crc of [0, 1, 0xe3069283, 0xffffffff, 0x80000000]) {
    const expected = Number((((BigInt(crc) >> 15n) | (BigInt(crc) << 17n)) + 0xa282ead8n) & 0xffffffffn);
    assert.equal(maskCrc(crc), expected);
    assert.equal(unmaskCrc(maskCrc(crc)), crc);
  }
  // Length field of the 87-byte warmup fixture (71 = 0x47): masked CRC bytes ba c3 fb 9b.
  const length = Buffer.from([0x47, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(maskedCrc32c(length), 0x9bfbc3ba);
});
