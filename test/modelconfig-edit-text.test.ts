import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyEdits,
  endsLine,
  lineEnd,
  lineIndent,
  removalRange,
  startsLine,
} from "../src/modelconfig/edit-text.js";

test("applyEdits: insertions at one offset keep their order; a removal there goes first", () => {
  assert.equal(
    applyEdits("abcdef", [
      { start: 2, end: 2, text: "1" },
      { start: 2, end: 2, text: "2" },
      { start: 2, end: 4, text: "" },
      { start: 5, end: 6, text: "F" },
    ]),
    "ab12eF",
  );
  assert.throws(
    () =>
      applyEdits("abcdef", [
        { start: 1, end: 4, text: "" },
        { start: 3, end: 5, text: "" },
      ]),
    /overlapping edits/,
  );
});

test("line helpers: indentation, CRLF-aware line ends, blank-or-comment rests", () => {
  const text = "a {\r\n\t  b: 1 # c\r\n}";
  const b = text.indexOf("b");
  assert.equal(lineIndent(text, b), "\t  ");
  assert.equal(lineEnd(text, b), text.indexOf("\r\n}"));
  assert.ok(startsLine(text, b));
  assert.ok(endsLine(text, text.indexOf("1") + 1));
  assert.ok(!endsLine(text, b));
});

test("removalRange takes whole lines (with a trailing comment) only when nothing else shares them", () => {
  const text = "x {\n  a: 1  # about a\n  b: 2\n}";
  const a = text.indexOf("a:");
  assert.deepEqual(removalRange(text, a, a + 4), { start: 4, end: text.indexOf("  b") });
  const inline = "x { a: 1, b: 2 }";
  assert.deepEqual(removalRange(inline, 4, 9), { start: 4, end: 10 });
  const last = "a: 1\nb: 2";
  assert.equal(applyEdits(last, [{ ...removalRange(last, 5, 9), text: "" }]), "a: 1");
  const crlf = "a: 1\r\nb: 2\r\n";
  assert.equal(applyEdits(crlf, [{ ...removalRange(crlf, 0, 4), text: "" }]), "b: 2\r\n");
});
