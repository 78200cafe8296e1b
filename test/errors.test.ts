import assert from "node:assert/strict";
import { test } from "node:test";
import {
  describeError,
  ExitCode,
  exitCodeOf,
  RefusedError,
  RolloutError,
  UnreachableError,
  UsageError,
} from "../src/errors.js";

test("each error class maps to its documented exit code", () => {
  assert.equal(exitCodeOf(new RolloutError("x")), ExitCode.failed);
  assert.equal(exitCodeOf(new UsageError("x")), ExitCode.usage);
  assert.equal(exitCodeOf(new UnreachableError("x")), ExitCode.unreachable);
  assert.equal(exitCodeOf(new RefusedError("x")), ExitCode.refused);
  assert.equal(exitCodeOf(new Error("plain")), ExitCode.failed);
});

test("describe() says where, what and how to fix", () => {
  const error = new UsageError("unknown field", { where: "models.config:3:5", hint: "remove the field" });
  assert.equal(describeError(error), "models.config:3:5: unknown field\n  hint: remove the field");
  assert.equal(error.name, "UsageError");
});
