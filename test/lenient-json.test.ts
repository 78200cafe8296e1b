import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { LenientJsonError, parseLenientJson, stringifyLenientJson } from "../src/tfserving/lenient-json.js";

test("bare NaN, Infinity and -Infinity parse as numbers (TF Serving predict output)", () => {
  const reply = parseLenientJson('{\n    "predictions": [3.0, NaN, Infinity, -Infinity, [NaN]]\n}') as {
    predictions: unknown[];
  };
  assert.equal(reply.predictions[0], 3);
  assert.ok(Number.isNaN(reply.predictions[1]));
  assert.equal(reply.predictions[2], Infinity);
  assert.equal(reply.predictions[3], -Infinity);
  assert.ok(Number.isNaN((reply.predictions[4] as number[])[0]));
  assert.throws(() => JSON.parse('{"p": [NaN]}'), SyntaxError, "the native parser really rejects it");
});

test("the same words inside strings stay strings, escapes included", () => {
  const parsed = parseLenientJson(
    '{"a": "NaN", "b": "Infinity and beyond", "NaN": -1, "c": "say \\"NaN\\"\\n\\u00e9", "d": "-Infinity"}',
  );
  assert.deepEqual(parsed, {
    a: "NaN",
    b: "Infinity and beyond",
    NaN: -1,
    c: 'say "NaN"\né',
    d: "-Infinity",
  });
});

test("integers beyond 2^53 become exact bigints by default, or rounded numbers on request", () => {
  const text =
    '{"ids": [9007199254740993, -9223372036854775808, 18446744073709551615, 42, 1e300, 9007199254740993.0]}';
  const exact = parseLenientJson(text) as { ids: unknown[] };
  assert.deepEqual(exact.ids, [
    9007199254740993n,
    -9223372036854775808n,
    18446744073709551615n,
    42,
    1e300,
    9007199254740992,
  ]);
  const rounded = parseLenientJson(text, { bigIntegers: "number" }) as { ids: unknown[] };
  assert.deepEqual(rounded.ids, JSON.parse(text).ids);
});

test("agrees with JSON.parse on every valid JSON document (property)", () => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      assert.deepEqual(parseLenientJson(text, { bigIntegers: "number" }), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
});

test('a "__proto__" key stays an own property, as with JSON.parse', () => {
  const parsed = parseLenientJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("invalid input fails with a LenientJsonError giving line and column", () => {
  const cases: [string, RegExp][] = [
    ["", /Unexpected end of JSON at line 1 column 1/],
    ['{"a": 1,\n "b": nan}', /Unexpected "n" at line 2 column 7/],
    ["[1, 2", /Unexpected end of JSON/],
    ["[1 2]", /Unexpected "2"/],
    ['{"a" 1}', /Unexpected "1"/],
    ["{a: 1}", /Unexpected "a"/],
    ['"tab\there"', /Bad string/],
    ["[1] x", /Unexpected "x"/],
    ["01", /Unexpected "1"/],
    ["<html>404</html>", /Unexpected "<"/],
  ];
  for (const [text, pattern] of cases)
    assert.throws(
      () => parseLenientJson(text),
      (e: unknown) => e instanceof LenientJsonError && pattern.test(e.message),
      text,
    );
});

test("stringify writes TF Serving's dialect: bare non-finite tokens, exact bigints, b64 bytes", () => {
  const text = stringifyLenientJson({
    instances: [1.5, NaN, Infinity, -Infinity, 2n ** 64n - 1n],
    bytes: Buffer.from("hi"),
    skipped: undefined,
    nested: [{ s: 'q"uote', t: true, n: null }, undefined],
  });
  assert.equal(
    text,
    '{"instances":[1.5,NaN,Infinity,-Infinity,18446744073709551615],"bytes":{"b64":"aGk="},"nested":[{"s":"q\\"uote","t":true,"n":null},null]}',
  );
  const back = parseLenientJson(text) as { instances: unknown[] };
  assert.equal(back.instances[4], 2n ** 64n - 1n);
  assert.throws(() => stringifyLenientJson(Symbol("x")), TypeError);
});

test("stringify then parse is the identity on finite JSON values (property)", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.deepEqual(
        parseLenientJson(stringifyLenientJson(value), { bigIntegers: "number" }),
        JSON.parse(JSON.stringify(value)),
      );
    }),
    { numRuns: 200 },
  );
});
