import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { UsageError } from "../src/errors.js";
import { elementCount, flattenNested, MAX_ELEMENTS, nestByShape } from "../src/tensor/shape.js";

const isNumber = (v: unknown): v is number => typeof v === "number";

test("flattenNested gives the shape and row-major values; scalars and empty lists included", () => {
  assert.deepEqual(
    flattenNested(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      isNumber,
    ),
    { shape: [3, 2], values: [1, 2, 3, 4, 5, 6] },
  );
  assert.deepEqual(flattenNested(5, isNumber), { shape: [], values: [5] });
  assert.deepEqual(flattenNested([], isNumber), { shape: [0], values: [] });
  assert.deepEqual(flattenNested([[], []], isNumber), { shape: [2, 0], values: [] });
});

test("flattenNested names the first ragged position and the leaf check", () => {
  assert.throws(
    () =>
      flattenNested(
        [
          [[1], [2]],
          [[3], [4, 5]],
        ],
        isNumber,
        "in.json",
      ),
    (e: unknown) =>
      e instanceof UsageError &&
      e.where === "in.json" &&
      /values\[1\]\[1\] has length 2 but dimension 2 is 1/.test(e.message),
  );
  assert.throws(
    () => flattenNested([1, "2"], isNumber),
    /values\[1\] is the string "2" where a scalar was expected/,
  );
});

test("nestByShape inverts flattenNested (property)", () => {
  const nested = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.array(fc.integer(), {
        minLength: shape.reduce((a, b) => a * b, 1),
        maxLength: shape.reduce((a, b) => a * b, 1),
      }),
    ),
  );
  fc.assert(
    fc.property(nested, ([shape, values]) => {
      const rebuilt = nestByShape(values, shape);
      const flat = flattenNested(rebuilt, isNumber);
      assert.deepEqual(flat.values, values);
      if (!shape.includes(0)) assert.deepEqual(flat.shape, shape);
    }),
  );
});

test("elementCount refuses negative, fractional and oversized shapes", () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([2, 0, 5]), 0);
  assert.throws(
    () => elementCount([3, -1]),
    (e: unknown) => e instanceof UsageError && /dimension 1 of shape \[3, -1\] is -1/.test(e.message),
  );
  assert.throws(() => elementCount([1.5]), UsageError);
  assert.throws(() => elementCount([MAX_ELEMENTS, 2]), /more than/);
  assert.throws(() => nestByShape([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
});
