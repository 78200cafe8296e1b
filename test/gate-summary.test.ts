// Summaries stay short whatever the tensor: dtype, shape, the first few values and the count.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clip, errorText, summarizeTensor, summarizeTensors } from "../src/gate/summary.js";

test("a big tensor is summarised by its first four values", () => {
  const values = Array.from({ length: 1_000_000 }, (_, i) => i);
  const text = summarizeTensor({ dtype: "DT_FLOAT", shape: [1000, 1000], values });
  assert.equal(text, "DT_FLOAT [1000, 1000]: 0, 1, 2, 3, … (1000000 values)");
});

test("strings, bytes, bigints and JSON objects are shortened", () => {
  const summary = summarizeTensors({
    s: { dtype: "DT_STRING", shape: [2], values: [Buffer.from("x".repeat(100)), Buffer.from("ok")] },
    l: { dtype: "DT_INT64", shape: [1], values: [9007199254740993n] },
    j: { shape: [1], values: [{ b64: "A".repeat(100) }] },
  });
  assert.equal(summary.s, `DT_STRING [2]: "${"x".repeat(16)}…", "ok" (2 values)`);
  assert.equal(summary.l, "DT_INT64 [1]: 9007199254740993 (1 values)");
  assert.match(summary.j!, /^json \[1\]: \{"b64":"A{16}… \(1 values\)$/);
});

test("error texts are clipped", () => {
  assert.equal(clip("abcdef", 3), "abc…");
  assert.equal(errorText(new Error("e".repeat(1000))).length, 301);
});
