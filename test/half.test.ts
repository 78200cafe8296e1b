import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  bfloat16BitsToNumber,
  halfBitsToNumber,
  numberToBfloat16Bits,
  numberToHalfBits,
} from "../src/tensor/half.js";

test("half: known bit patterns decode to their IEEE values", () => {
  assert.equal(halfBitsToNumber(0x3c00), 1);
  assert.equal(halfBitsToNumber(0xc000), -2);
  assert.equal(halfBitsToNumber(0x3555), 0.333251953125);
  assert.equal(halfBitsToNumber(0x7bff), 65504);
  assert.equal(halfBitsToNumber(0x0001), 2 ** -24);
  assert.equal(halfBitsToNumber(0x0400), 2 ** -14);
  assert.equal(halfBitsToNumber(0x7c00), Infinity);
  assert.equal(halfBitsToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfBitsToNumber(0x7e00)));
  assert.ok(Object.is(halfBitsToNumber(0x8000), -0));
});

test("half: every one of the 65,536 patterns survives decode then encode", () => {
  for (let bits = 0; bits <= 0xffff; bits++) {
    const value = halfBitsToNumber(bits);
    if (Number.isNaN(value)) assert.ok(Number.isNaN(halfBitsToNumber(numberToHalfBits(value))));
    else if (numberToHalfBits(value) !== bits)
      assert.fail(`pattern 0x${bits.toString(16)} → ${value} → 0x${numberToHalfBits(value).toString(16)}`);
  }
});

test("half: encoding rounds to nearest, ties to even, and overflows to Infinity", () => {
  assert.equal(numberToHalfBits(1 + 2 ** -11), 0x3c00); // tie between 0x3C00 and 0x3C01 → even
  assert.equal(numberToHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie between 0x3C01 and 0x3C02 → even
  assert.equal(numberToHalfBits(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.equal(numberToHalfBits(65519), 0x7bff);
  assert.equal(numberToHalfBits(65520), 0x7c00);
  assert.equal(numberToHalfBits(-1e9), 0xfc00);
  assert.equal(numberToHalfBits(2 ** -25), 0x0000); // tie to even zero
  assert.equal(numberToHalfBits(2 ** -25 + 2 ** -30), 0x0001);
  assert.equal(numberToHalfBits(-0), 0x8000);
  assert.equal(numberToHalfBits(NaN), 0x7e00);
});

test("half: encoding picks the nearest representable value (property)", () => {
  fc.assert(
    fc.property(fc.double({ min: -65504, max: 65504, noNaN: true }), (x) => {
      const got = halfBitsToNumber(numberToHalfBits(x));
      const bits = numberToHalfBits(x);
      // neighbours one pattern away are never strictly closer
      for (const neighbour of [bits - 1, bits + 1]) {
        if ((neighbour & 0x7fff) > 0x7bff || neighbour < 0) continue;
        assert.ok(Math.abs(halfBitsToNumber(neighbour) - x) >= Math.abs(got - x));
      }
    }),
  );
});

test("bfloat16: known bit patterns decode, and patterns round-trip", () => {
  assert.equal(bfloat16BitsToNumber(0x3f80), 1);
  assert.equal(bfloat16BitsToNumber(0xc040), -3);
  assert.equal(bfloat16BitsToNumber(0x4049), 3.140625);
  assert.equal(bfloat16BitsToNumber(0x7f80), Infinity);
  assert.equal(bfloat16BitsToNumber(0xff80), -Infinity);
  assert.ok(Number.isNaN(bfloat16BitsToNumber(0x7fc0)));
  for (let bits = 0; bits <= 0xffff; bits++) {
    const value = bfloat16BitsToNumber(bits);
    if (!Number.isNaN(value) && numberToBfloat16Bits(value) !== bits) assert.fail(`0x${bits.toString(16)}`);
  }
});

test("bfloat16: encoding rounds ties to even and overflows to Infinity", () => {
  assert.equal(numberToBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(numberToBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie → even
  assert.equal(numberToBfloat16Bits(Math.PI), 0x4049);
  assert.equal(numberToBfloat16Bits(3.4e38), 0x7f80);
  assert.equal(numberToBfloat16Bits(NaN), 0x7fc0);
});
