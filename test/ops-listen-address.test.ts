import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../src/errors.js";
import { DEFAULT_OPS_LISTEN, formatListenAddress, parseListenAddress } from "../src/ops/listen-address.js";

test("HOST:PORT and [IPv6]:PORT parse", () => {
  assert.deepEqual(parseListenAddress(DEFAULT_OPS_LISTEN), { host: "127.0.0.1", port: 9464 });
  assert.deepEqual(parseListenAddress("0.0.0.0:9464"), { host: "0.0.0.0", port: 9464 });
  assert.deepEqual(parseListenAddress("localhost:0"), { host: "localhost", port: 0 });
  assert.deepEqual(parseListenAddress("[::1]:65535"), { host: "::1", port: 65535 });
  assert.deepEqual(parseListenAddress(" ops.internal:80 "), { host: "ops.internal", port: 80 });
});

test("formatting round-trips, bracketing IPv6", () => {
  for (const text of ["127.0.0.1:9464", "[::]:1", "host-a:8080"])
    assert.equal(formatListenAddress(parseListenAddress(text)), text);
});

test("bad addresses get a specific error with where and a hint", () => {
  const cases: [string, RegExp][] = [
    ["9464", /has no port/],
    [":9464", /has no host/],
    ["::1:9464", /bare IPv6/],
    ["[::1]9464", /no :PORT after/],
    ["[::1:9464", /unclosed \[/],
    ["[localhost]:1", /not an IPv6 address/],
    ["127.0.0.1:65536", /port "65536", which is not a number from 0 to 65535/],
    ["127.0.0.1:http", /port "http"/],
    ["127.0.0.1:", /port ""/],
    ["bad_host!:1", /not an IP address or host name/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseListenAddress(text, "http.listen"),
      (error: unknown) =>
        error instanceof UsageError &&
        message.test(error.message) &&
        error.message.includes(`"${text}"`) &&
        error.where === "http.listen" &&
        (error.hint ?? "").length > 0,
      text,
    );
  }
});
