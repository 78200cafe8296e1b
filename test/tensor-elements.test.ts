import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../src/errors.js";
import { dtypeOf } from "../src/tensor/dtypes.js";
import { elementCodec, SUPPORTED_DTYPES } from "../src/tensor/elements.js";

test("every supported dtype has a codec writing exactly its element size", () => {
  for (const name of SUPPORTED_DTYPES) {
    const dtype = dtypeOf(name);
    const codec = elementCodec(dtype);
    assert.equal(codec.valField, dtype.valField, name);
    if (dtype.byteSize === undefined) continue;
    const buffer = Buffer.alloc(dtype.byteSize + 2, 0xaa);
    codec.write(buffer, 1, codec.zero);
    assert.equal(buffer[0], 0xaa, `${name} wrote before its slot`);
    assert.equal(buffer[dtype.byteSize + 1], 0xaa, `${name} wrote past its slot`);
    assert.deepEqual(codec.read(buffer, 1), codec.zero, name);
  }
});

test("fromJs accepts in-range values and rejects everything else", () => {
  const check = (name: string, good: unknown[], bad: unknown[]) => {
    const codec = elementCodec(dtypeOf(name));
    for (const value of good) assert.notEqual(codec.fromJs(value), undefined, `${name} ${String(value)}`);
    for (const value of bad) assert.equal(codec.fromJs(value), undefined, `${name} ${String(value)}`);
  };
  check("DT_INT8", [-128, 127], [128, -129, 1.5, "1", 1n]);
  check("DT_UINT32", [0, 2 ** 32 - 1], [-1, 2 ** 32]);
  check("DT_INT64", [2n ** 63n - 1n, "-9223372036854775808", 42], [2n ** 63n, "1.5", 2 ** 53, "0x10"]);
  check("DT_UINT64", [2n ** 64n - 1n, 0], [-1n, 2n ** 64n]);
  check("DT_BOOL", [true, false], [0, 1, "true"]);
  check("DT_STRING", ["x", new Uint8Array([1])], [1, null]);
  check("DT_FLOAT", [NaN, Infinity, 1e40], ["1", true]);
  assert.equal(elementCodec(dtypeOf("DT_FLOAT")).fromJs(0.1), Math.fround(0.1));
  assert.equal(elementCodec(dtypeOf("DT_HALF")).fromJs(1e6), Infinity);
});

test("unsupported dtypes are refused with the supported list", () => {
  for (const name of ["DT_COMPLEX64", "DT_QINT8", "DT_RESOURCE", "DT_VARIANT", "DT_FLOAT8_E5M2", "DT_INT4"])
    assert.throws(
      () => elementCodec(dtypeOf(name), "sig x"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.where === "sig x" &&
        e.message.includes(name) &&
        /DT_FLOAT/.test(e.hint ?? ""),
    );
});
