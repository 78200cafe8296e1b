import assert from "node:assert/strict";
import { test } from "node:test";
import { TextFormatError } from "../src/textformat/text-format-error.js";
import { stringTokenBytes, tokenize, type Token } from "../src/textformat/tokenizer.js";

const kinds = (text: string) => tokenize(text, "t.txt").map((t) => `${t.kind}:${t.text}`);

test("splits identifiers, numbers, strings and symbols, skipping whitespace and # comments", () => {
  assert.deepEqual(kinds('name: "x" # comment "not a string"\n  cfg { n: -12 }'), [
    "identifier:name",
    "symbol::",
    'string:"x"',
    "identifier:cfg",
    "symbol:{",
    "identifier:n",
    "symbol::",
    "symbol:-",
    "integer:12",
    "symbol:}",
    "end:",
  ]);
});

test("numbers: hex, octal, decimal integers and every float notation", () => {
  assert.deepEqual(kinds("0x1F 0X1f 017 0 42 1.5 .5 1e3 1E-3 1.5f 2f 1. 1.5e+2F"), [
    "integer:0x1F",
    "integer:0X1f",
    "integer:017",
    "integer:0",
    "integer:42",
    "float:1.5",
    "float:.5",
    "float:1e3",
    "float:1E-3",
    "float:1.5f",
    "float:2f",
    "float:1.",
    "float:1.5e+2F",
    "end:",
  ]);
  // inf/nan are identifiers; the parser gives them meaning.
  assert.deepEqual(kinds("-inf nan"), ["symbol:-", "identifier:inf", "identifier:nan", "end:"]);
});

test("offsets, 1-based lines and columns, tabs to the next multiple of 8", () => {
  const tokens = tokenize('a\n\tb "c"', "t.txt");
  assert.deepEqual(
    tokens.map((t) => [t.text, t.start, t.end, t.line, t.column]),
    [
      ["a", 0, 1, 1, 1],
      ["b", 3, 4, 2, 9],
      ['"c"', 5, 8, 2, 11],
      ["", 8, 8, 2, 14],
    ],
  );
});

test("columns count UTF-8 bytes, as protobuf's tokenizer does", () => {
  // "é" is 2 bytes, "€" 3, "😀" 4 (a surrogate pair in JS: 2 + 2).
  const columns = tokenize('"é" "€" "😀" x', "t.txt").map((t) => t.column);
  assert.deepEqual(columns, [1, 6, 12, 19, 20]);
  assert.throws(() => tokenize('"é" \x01', "t.txt"), /t\.txt:1:6: Invalid control characters/);
});

test("string escapes decode to the exact bytes", () => {
  const bytes = (literal: string) => stringTokenBytes(tokenize(literal, "t.txt")[0] as Token);
  assert.deepEqual(
    bytes(String.raw`"\101\x41\x4a\n\t\r\\\'\"\a\b\f\v\?\0"`),
    Buffer.from("AAJ\n\t\r\\'\"\x07\b\f\v?\0"),
  );
  assert.deepEqual(bytes(String.raw`'\u00e9\U0001F600'`), Buffer.from("é😀"));
  assert.deepEqual(
    bytes(String.raw`"\ud83d\ude00"`),
    Buffer.from("😀"),
    "a surrogate pair is one code point",
  );
  assert.deepEqual(bytes(`'it"s é'`), Buffer.from('it"s é'));
  assert.deepEqual(bytes(String.raw`"\1234"`), Buffer.from("S4"), "octal takes at most three digits");
  assert.deepEqual(bytes(String.raw`"\xfff"`), Buffer.from([0xff, 0x66]), "hex takes at most two digits");
});

test("lexical errors carry FILE:LINE:COL and protobuf's wording", () => {
  const cases: [string, string][] = [
    ['a: "abc', "t.txt:1:8: Unexpected end of string."],
    ['a: "ab\nc"', "t.txt:1:7: String literals cannot cross line boundaries."],
    [String.raw`a: "\q"`, "t.txt:1:5: Invalid escape sequence in string literal."],
    [String.raw`a: "\xg"`, "t.txt:1:7: Expected hex digits for escape sequence."],
    [String.raw`a: "\u12"`, String.raw`t.txt:1:5: Expected four hex digits for \u escape sequence.`],
    [
      String.raw`a: "\U00110000"`,
      String.raw`t.txt:1:5: Expected eight hex digits up to 10ffff for \U escape sequence`,
    ],
    ["a: 0x", 't.txt:1:6: "0x" must be followed by hex digits.'],
    ["a: 09", "t.txt:1:5: Numbers starting with leading zero must be in octal."],
    ["a: 1e", 't.txt:1:6: "e" must be followed by exponent.'],
    ["a: 1.2.3", "t.txt:1:7: Already saw decimal point or exponent; can't have another one."],
    ["a: 0x1.5", "t.txt:1:7: Hex and octal numbers must be integers."],
    ["a: \x01", "t.txt:1:4: Invalid control characters encountered in text."],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => tokenize(text, "t.txt"),
      (error: unknown) => error instanceof TextFormatError && error.message === message,
      `${JSON.stringify(text)} should fail with ${message}`,
    );
  }
});
