import assert from "node:assert/strict";
import { test } from "node:test";
import type { CliIo } from "../src/commands/io.js";
import { runCli } from "../src/program.js";

export function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    env: {},
    cwd: process.cwd(),
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}

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
