import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../src/errors.js";
import { messageType } from "../src/proto/registry.js";
import { decodeTensor, encodeTensor, nestByShape, type TensorProtoObject } from "../src/tensor/codec.js";

const TensorProto = messageType("tensorflow.TensorProto");

/** Sends the plain object over the real protobuf wire and back in canonical form. */
function throughWire(proto: TensorProtoObject): TensorProtoObject {
  const bytes = TensorProto.encode(TensorProto.fromObject(proto)).finish();
  return TensorProto.toObject(TensorProto.decode(bytes), {
    longs: String,
    enums: String,
  }) as TensorProtoObject;
}

const float32 = fc.float({ noDefaultInfinity: false }).map(Math.fround);
const ELEMENTS: Record<string, fc.Arbitrary<unknown>> = {
  DT_FLOAT: float32,
  DT_DOUBLE: fc.double(),
  DT_INT8: fc.integer({ min: -128, max: 127 }),
  DT_UINT8: fc.integer({ min: 0, max: 255 }),
  DT_INT16: fc.integer({ min: -32768, max: 32767 }),
  DT_UINT16: fc.integer({ min: 0, max: 65535 }),
  DT_INT32: fc.integer(),
  DT_UINT32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  DT_INT64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  DT_UINT64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  DT_BOOL: fc.boolean(),
  DT_STRING: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  // 16-bit floats: generate from patterns so every value is exactly representable.
  DT_HALF: fc.integer({ min: 0, max: 0xffff }).filter((b) => (b & 0x7c00) !== 0x7c00 || (b & 0x3ff) === 0),
  DT_BFLOAT16: fc.integer({ min: 0, max: 0xffff }).filter((b) => (b & 0x7f80) !== 0x7f80 || (b & 0x7f) === 0),
};

const shapes = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return Object.is(a, b);
}

for (const [dtype, element] of Object.entries(ELEMENTS)) {
  const isSixteenBit = dtype === "DT_HALF" || dtype === "DT_BFLOAT16";
  const values = (shape: number[]) =>
    fc.array(element, {
      minLength: shape.reduce((a, b) => a * b, 1),
      maxLength: shape.reduce((a, b) => a * b, 1),
    });
  for (const tensorContent of dtype === "DT_STRING" ? [false] : [false, true]) {
    test(`${dtype} round-trips through ${tensorContent ? "tensor_content" : "its *_val field"} and the wire`, () => {
      fc.assert(
        fc.property(
          shapes.chain((shape) => fc.tuple(fc.constant(shape), values(shape))),
          ([shape, raw]) => {
            // For 16-bit floats the generator gives patterns; the JS value is their decoded number.
            const flat = isSixteenBit
              ? (decodeTensor({
                  dtype,
                  tensor_shape: { dim: [{ size: String(raw.length) }] },
                  half_val: raw as number[],
                }).values as number[])
              : raw;
            const proto = encodeTensor(flat, { dtype, shape, tensorContent });
            assert.deepEqual(throughWire(proto), proto, "encode output is already in canonical form");
            const decoded = decodeTensor(throughWire(proto));
            assert.equal(decoded.dtype, dtype);
            assert.deepEqual(decoded.shape, shape);
            assert.equal(decoded.values.length, flat.length);
            decoded.values.forEach((v, i) =>
              assert.ok(sameValue(v, flat[i]), `element ${i}: ${String(v)} vs ${String(flat[i])}`),
            );
          },
        ),
        { numRuns: 60 },
      );
    });
  }
}

test("nested arrays give the shape; the typed *_val field is the default form", () => {
  const proto = encodeTensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { dtype: "DT_FLOAT" },
  );
  assert.deepEqual(proto, {
    dtype: "DT_FLOAT",
    tensor_shape: { dim: [{ size: "2" }, { size: "3" }] },
    float_val: [1, 2, 3, 4, 5, 6],
  });
  assert.deepEqual(encodeTensor(7, { dtype: "int32" }), {
    dtype: "DT_INT32",
    tensor_shape: {},
    int_val: [7],
  });
  assert.deepEqual(encodeTensor([], { dtype: "DT_STRING" }), {
    dtype: "DT_STRING",
    tensor_shape: { dim: [{}] },
  });
  assert.deepEqual(encodeTensor(["a", Buffer.from([0xff])], { dtype: "string" }).string_val, [
    Buffer.from("a"),
    Buffer.from([0xff]),
  ]);
});

test("typed arrays imply their dtype, flat arrays take an explicit shape", () => {
  assert.deepEqual(encodeTensor(new Int16Array([1, -2, 3, -4]), { shape: [2, 2] }), {
    dtype: "DT_INT16",
    tensor_shape: { dim: [{ size: "2" }, { size: "2" }] },
    int_val: [1, -2, 3, -4],
  });
  assert.deepEqual(encodeTensor(new BigUint64Array([2n ** 64n - 1n])).uint64_val, ["18446744073709551615"]);
  assert.deepEqual(encodeTensor([1, 2, 3, 4, 5, 6], { dtype: "DT_DOUBLE", shape: [3, 2] }).tensor_shape, {
    dim: [{ size: "3" }, { size: "2" }],
  });
});

test("tensor_content is little-endian element bytes", () => {
  const asContent = (values: unknown, dtype: string) => [
    ...(encodeTensor(values, { dtype, tensorContent: true }).tensor_content ?? []),
  ];
  assert.deepEqual(asContent([1], "DT_FLOAT"), [0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual(asContent([-2], "DT_INT32"), [0xfe, 0xff, 0xff, 0xff]);
  assert.deepEqual(asContent([0x0102], "DT_UINT16"), [0x02, 0x01]);
  assert.deepEqual(asContent([1], "DT_HALF"), [0x00, 0x3c]);
  assert.deepEqual(asContent([1], "DT_BFLOAT16"), [0x80, 0x3f]);
  assert.deepEqual(asContent([true, false], "DT_BOOL"), [1, 0]);
  assert.deepEqual(asContent([2n ** 63n - 1n], "DT_INT64"), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  const decoded = decodeTensor({
    dtype: "DT_DOUBLE",
    tensor_shape: { dim: [{ size: "2" }] },
    tensor_content: Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0]),
  });
  assert.deepEqual(decoded.values, [1, -2]);
});

test("int64 and uint64 beyond 2^53 stay exact both ways", () => {
  const big = 2n ** 53n + 1n;
  const proto = encodeTensor([big, "-9223372036854775808", 5], { dtype: "DT_INT64" });
  assert.deepEqual(proto.int64_val, ["9007199254740993", "-9223372036854775808", "5"]);
  assert.deepEqual(decodeTensor(throughWire(proto)).values, [big, -(2n ** 63n), 5n]);
  const unsigned = decodeTensor({
    dtype: "DT_UINT64",
    tensor_shape: {},
    uint64_val: ["18446744073709551615"],
  });
  assert.deepEqual(unsigned.values, [2n ** 64n - 1n]);
  assert.throws(
    () => encodeTensor([2 ** 53 + 2], { dtype: "DT_INT64" }),
    (e: unknown) => e instanceof UsageError && /bigint or a string/.test(e.hint ?? ""),
  );
});

test("half_val carries raw 16-bit patterns for DT_HALF and DT_BFLOAT16", () => {
  const shape = { dim: [{ size: "4" }] };
  const half = decodeTensor({
    dtype: "DT_HALF",
    tensor_shape: shape,
    half_val: [0x3c00, 0x7c00, 0xfc00, 0xc000],
  });
  assert.deepEqual(half.values, [1, Infinity, -Infinity, -2]);
  const bf = decodeTensor({
    dtype: "DT_BFLOAT16",
    tensor_shape: shape,
    half_val: [0x3f80, 0x7f80, 0xbf80, 0x4049],
  });
  assert.deepEqual(bf.values, [1, Infinity, -1, 3.140625]);
  assert.deepEqual(encodeTensor([1, 0.5], { dtype: "DT_HALF" }).half_val, [0x3c00, 0x3800]);
});

test("TF's fill rule: extra values ignored, short lists repeat the last value, none means zeros", () => {
  const shape = { dim: [{ size: "2" }, { size: "2" }] };
  assert.deepEqual(
    decodeTensor({ dtype: "DT_FLOAT", tensor_shape: shape, float_val: [1, 2, 3, 4, 5, 6] }).values,
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    decodeTensor({ dtype: "DT_INT32", tensor_shape: shape, int_val: [7, 8] }).values,
    [7, 8, 8, 8],
  );
  assert.deepEqual(decodeTensor({ dtype: "DT_INT64", tensor_shape: shape, int64_val: ["9"] }).values, [
    9n,
    9n,
    9n,
    9n,
  ]);
  assert.deepEqual(decodeTensor({ dtype: "DT_FLOAT", tensor_shape: shape }).values, [0, 0, 0, 0]);
  assert.deepEqual(decodeTensor({ dtype: "DT_BOOL", tensor_shape: shape }).values, [
    false,
    false,
    false,
    false,
  ]);
  assert.deepEqual(decodeTensor({ dtype: "DT_UINT64", tensor_shape: shape }).values, [0n, 0n, 0n, 0n]);
  assert.deepEqual(decodeTensor({ dtype: "DT_STRING", tensor_shape: { dim: [{ size: "2" }] } }).values, [
    Buffer.alloc(0),
    Buffer.alloc(0),
  ]);
  assert.deepEqual(decodeTensor({ dtype: "DT_FLOAT", tensor_shape: {}, float_val: [3, 4] }).values, [3]);
  // a zero-size dim ({} in canonical form) gives no values at all
  assert.deepEqual(
    decodeTensor({ dtype: "DT_FLOAT", tensor_shape: { dim: [{}, { size: "3" }] }, float_val: [1] }),
    {
      dtype: "DT_FLOAT",
      shape: [0, 3],
      values: [],
    },
  );
});

test("int_val entries are cast to the narrow type like TF's static_cast", () => {
  const one = { dim: [{ size: "3" }] };
  assert.deepEqual(
    decodeTensor({ dtype: "DT_UINT8", tensor_shape: one, int_val: [255, 256, -1] }).values,
    [255, 0, 255],
  );
  assert.deepEqual(
    decodeTensor({ dtype: "DT_INT8", tensor_shape: one, int_val: [127, 128, -129] }).values,
    [127, -128, 127],
  );
  assert.deepEqual(
    decodeTensor({ dtype: "DT_UINT16", tensor_shape: one, int_val: [65535, 65536, -1] }).values,
    [65535, 0, 65535],
  );
});

test("_REF dtypes decode as their base type, and dtype numbers are accepted", () => {
  const decoded = decodeTensor({ dtype: "DT_FLOAT_REF", tensor_shape: {}, float_val: [2] });
  assert.deepEqual(decoded, { dtype: "DT_FLOAT", shape: [], values: [2] });
  assert.equal(decodeTensor({ dtype: 9, tensor_shape: {}, int64_val: [1] }).dtype, "DT_INT64");
});

test("nestByShape rebuilds nested arrays, scalars and empty dims", () => {
  assert.deepEqual(nestByShape([1, 2, 3, 4, 5, 6], [2, 3]), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.equal(nestByShape([9], []), 9);
  assert.deepEqual(nestByShape([], [2, 0]), [[], []]);
  assert.deepEqual(nestByShape([], [0, 2]), []);
  const decoded = decodeTensor(encodeTensor([[[true], [false]]], { dtype: "DT_BOOL" }));
  assert.deepEqual(nestByShape(decoded.values, decoded.shape), [[[true], [false]]]);
});

function usageError(pattern: RegExp, where?: string) {
  return (e: unknown) =>
    e instanceof UsageError && pattern.test(e.message) && (where === undefined || e.where === where);
}

test("encoding errors are specific: ragged, count, range, dtype, shape, string content", () => {
  const where = "smoke.json:inputs.x";
  assert.throws(
    () => encodeTensor([[1, 2], [3]], { dtype: "DT_FLOAT", where }),
    usageError(/values\[1\] has length 1 but dimension 1 is 2: ragged/, where),
  );
  assert.throws(
    () => encodeTensor([[1, 2], 3], { dtype: "DT_FLOAT" }),
    usageError(/values\[1\] has a scalar/),
  );
  assert.throws(() => encodeTensor([1, [2]], { dtype: "DT_FLOAT" }), usageError(/values\[1\] is a list/));
  assert.throws(
    () => encodeTensor([1, 2, 3], { dtype: "DT_FLOAT", shape: [2, 2] }),
    usageError(/3 values given for shape \[2, 2\], which holds 4/),
  );
  assert.throws(
    () => encodeTensor([1, 2], { dtype: "DT_FLOAT", shape: [-1, 2] }),
    usageError(/dimension 0 of shape \[-1, 2\] is -1/),
  );
  assert.throws(
    () => encodeTensor([[1, 300]], { dtype: "DT_UINT8" }),
    usageError(/values\[0\]\[1\] is number 300, not a valid DT_UINT8 value/),
  );
  assert.throws(() => encodeTensor([1.5], { dtype: "DT_INT32" }), usageError(/values\[0\] is number 1.5/));
  assert.throws(
    () => encodeTensor(["1"], { dtype: "DT_FLOAT" }),
    usageError(/the string "1", not a valid DT_FLOAT/),
  );
  assert.throws(
    () => encodeTensor([1], { dtype: "DT_FLAOT" }),
    usageError(/unknown TensorFlow dtype "DT_FLAOT"/),
  );
  assert.throws(() => encodeTensor([1]), usageError(/no dtype given/));
  assert.throws(
    () => encodeTensor([1], { dtype: "DT_COMPLEX64" }),
    usageError(/DT_COMPLEX64 is not supported/),
  );
  assert.throws(
    () => encodeTensor(["a"], { dtype: "DT_STRING", tensorContent: true }),
    usageError(/DT_STRING has no tensor_content form/),
  );
});

test("decoding errors are specific: content length, content count, unknown rank, bad dims, no dtype", () => {
  const where = "reply outputs.y";
  const content = (bytes: number, size: string) => ({
    dtype: "DT_FLOAT",
    tensor_shape: { dim: [{ size }] },
    tensor_content: Buffer.alloc(bytes),
  });
  assert.throws(
    () => decodeTensor(content(7, "2"), where),
    usageError(/tensor_content is 7 bytes, not a multiple of the 4-byte DT_FLOAT element/, where),
  );
  assert.throws(
    () => decodeTensor(content(12, "2")),
    usageError(/holds 3 DT_FLOAT elements but the shape needs 2/),
  );
  assert.throws(
    () => decodeTensor({ dtype: "DT_FLOAT", tensor_shape: { unknown_rank: true } }),
    usageError(/unknown_rank/),
  );
  assert.throws(
    () => decodeTensor({ dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1" }] } }),
    usageError(/is -1/),
  );
  assert.throws(() => decodeTensor({ tensor_shape: {} }), usageError(/no dtype/));
  assert.throws(() => decodeTensor({ dtype: "DT_NOPE" }), usageError(/unknown TensorFlow dtype/));
  assert.throws(
    () =>
      decodeTensor({
        dtype: "DT_STRING",
        tensor_shape: { dim: [{ size: "1" }] },
        tensor_content: Buffer.from("x"),
      }),
    usageError(/DT_STRING cannot be carried in tensor_content/),
  );
});
