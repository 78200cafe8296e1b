import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { diffLines, unifiedDiff } from "../src/commands/unified-diff.js";

const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${i + from}`);
const text = (l: string[]) => l.map((x) => `${x}\n`).join("");

test("unifiedDiff: identical texts give nothing", () => {
  assert.equal(unifiedDiff("a\nb\n", "a\nb\n", "x", "y"), "");
});

test("unifiedDiff: diff -u format with 3 lines of context and exact hunk ranges", () => {
  const before = lines(10);
  const after = [...before];
  after[4] = "changed 5";
  assert.equal(
    unifiedDiff(text(before), text(after), "a/models.config", "b/models.config"),
    "--- a/models.config\n+++ b/models.config\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+changed 5\n line 6\n line 7\n line 8\n",
  );
});

test("unifiedDiff: distant changes make separate hunks, near ones share one; insertions at the ends", () => {
  const before = lines(30);
  const far = [...before];
  far[2] = "x";
  far[25] = "y";
  const farDiff = unifiedDiff(text(before), text(far), "a", "b");
  assert.deepEqual(farDiff.match(/^@@ .* @@$/gm), ["@@ -1,6 +1,6 @@", "@@ -23,7 +23,7 @@"]);
  const near = [...before];
  near[10] = "x";
  near[16] = "y"; // 6 unchanged lines between: one hunk, as diff -u does
  assert.equal(unifiedDiff(text(before), text(near), "a", "b").match(/^@@/gm)?.length, 1);
  assert.match(unifiedDiff("", "new\n", "a", "b"), /^@@ -0,0 \+1,1 @@\n\+new\n$/m);
  assert.equal(unifiedDiff("a\n", "a\nb\n", "a", "b"), "--- a\n+++ b\n@@ -1,1 +1,2 @@\n a\n+b\n");
});

test("unifiedDiff: a missing final newline is marked", () => {
  assert.match(
    unifiedDiff("a\nb", "a\nc", "x", "y"),
    /-b\n\\ No newline at end of file\n\+c\n\\ No newline at end of file/,
  );
});

test("diffLines (property): the script rebuilds both sides and is no longer than delete-all + insert-all", () => {
  const linesArb = fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 14 });
  fc.assert(
    fc.property(linesArb, linesArb, (a, b) => {
      const ops = diffLines(a, b);
      assert.deepEqual(
        ops.filter((o) => o.kind !== "+").map((o) => o.line),
        a,
      );
      assert.deepEqual(
        ops.filter((o) => o.kind !== "-").map((o) => o.line),
        b,
      );
      assert.ok(ops.filter((o) => o.kind !== " ").length <= a.length + b.length);
    }),
    { numRuns: 500 },
  );
});

test("diffLines: minimal on a classic example (ABCABBA → CBABAC has 5 edits)", () => {
  const ops = diffLines([..."ABCABBA"], [..."CBABAC"]);
  assert.equal(ops.filter((o) => o.kind !== " ").length, 5);
});
