import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../src/program.js";
import { captureIo } from "./helpers/capture-io.js";

test("--help lists the commands on stdout and exits 0", async () => {
  const io = captureIo();
  assert.equal(await runCli(["--help"], io), 0);
  assert.match(io.out, /inspect/);
  assert.match(io.out, /config/);
});

test("an unknown command is a usage error (exit 2) reported on stderr", async () => {
  const io = captureIo();
  assert.equal(await runCli(["no-such-command"], io), 2);
  assert.equal(io.out, "");
  assert.match(io.err, /unknown command/);
});
