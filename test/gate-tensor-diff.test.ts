import assert from "node:assert/strict";
import { test } from "node:test";
import {
  diffElements,
  firstOutside,
  indexText,
  topKAgreement,
  topKIndices,
} from "../src/gate/tensor-diff.js";

test("diffElements finds the largest absolute and relative difference and where", () => {
  const d = diffElements([1, 2.5, 10, 0.5], [1, 2, 9, 0]);
  assert.equal(d.elements, 4);
  assert.equal(d.maxAbsDiff, 1);
  assert.equal(d.maxAbsIndex, 2);
  // 0.5/0 is skipped (reference 0); 0.5/2 = 0.25 beats 1/9.
  assert.equal(d.maxRelDiff, 0.25);
  assert.equal(d.maxRelIndex, 1);
  assert.equal(d.unequal, 0);
});

test("diffElements counts NaN on one side and unequal strings as unequal, never as a number", () => {
  const d = diffElements([NaN, 1, NaN], [1, 1, NaN]);
  assert.equal(d.unequal, 1);
  assert.equal(d.firstUnequal, 0);
  assert.equal(d.maxAbsDiff, 0);
  const s = diffElements([Buffer.from("a"), "b", 3n], ["a", "c", 3]);
  assert.equal(s.unequal, 1);
  assert.equal(s.firstUnequal, 1);
});

test("firstOutside applies absolute + relative·|expected|", () => {
  assert.equal(firstOutside([1.05, 100.5], [1, 100], 0.6, 0), -1);
  assert.equal(firstOutside([1.05, 100.5], [1, 100], 0.1, 0), 1);
  assert.equal(firstOutside([1.05, 100.5], [1, 100], 0.01, 0), 0);
  assert.equal(firstOutside([1.001, 100.5], [1, 100], 0, 0.01), -1);
  assert.equal(firstOutside([1.001, 102], [1, 100], 0, 0.01), 1);
  assert.equal(firstOutside([NaN], [NaN], 0, 0), -1);
  assert.equal(firstOutside(["x"], [Buffer.from("y")], 1, 1), 0);
});

test("topKIndices orders by score, ties to the lower index, NaN last", () => {
  assert.deepEqual(topKIndices([0.1, 0.7, 0.2, 0.7], 3), [1, 3, 2]);
  assert.deepEqual(topKIndices([NaN, 0.1], 1), [1]);
});

test("topKAgreement compares each row's top-k set", () => {
  const reference = { shape: [3, 3], values: [0.1, 0.5, 0.4, 0.9, 0.05, 0.05, 0.2, 0.3, 0.5] };
  const actual = { shape: [3, 3], values: [0.2, 0.4, 0.5, 0.8, 0.1, 0.1, 0.6, 0.3, 0.1] };
  const top1 = topKAgreement(actual, reference, 1);
  assert.deepEqual(top1, { rows: 3, agreeing: 1, firstDisagreeing: 0 });
  const top2 = topKAgreement(actual, reference, 2);
  // Row 0: {1, 2} both; row 1: {0, 1} vs {0, 1 or 2 (tie → 1)}; row 2: {2, 1} vs {0, 1}.
  assert.deepEqual(top2, { rows: 3, agreeing: 2, firstDisagreeing: 2 });
});

test("indexText turns a flat index into coordinates", () => {
  assert.equal(indexText(5, [2, 3]), "[1, 2]");
  assert.equal(indexText(0, []), "[]");
  assert.equal(indexText(3, [4]), "[3]");
});
