// The pieces every intent command shares: arguments, the actor, the confirmation, the consumed-intent lookup.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { confirm } from "../src/commands/confirm.js";
import { operatorActor, parseTimeout, parseVersion } from "../src/commands/intent-command.js";
import { ExitCode, RefusedError, UsageError } from "../src/errors.js";
import { openLocalState } from "../src/state/local-store.js";
import { captureIo } from "./helpers/capture-io.js";

test("versions are int64 numbers in canonical form; anything else is a usage error naming the argument", () => {
  assert.equal(parseVersion("007", "--to"), "7");
  assert.equal(parseVersion("9223372036854775807", "VERSION"), "9223372036854775807");
  for (const bad of ["", "v3", "1.5", "-1", "9223372036854775808"]) {
    assert.throws(
      () => parseVersion(bad, "--to"),
      (e: unknown) => e instanceof UsageError && e.exitCode === ExitCode.usage && /--to/.test(e.message),
      bad,
    );
  }
});

test("--timeout takes the daemon config's durations", () => {
  assert.equal(parseTimeout("30s"), 30_000);
  assert.equal(parseTimeout(undefined), 600_000);
  assert.throws(() => parseTimeout("5 minutes"), /--timeout "5 minutes" is not a duration/);
});

test("the actor is the person behind sudo, else the user", () => {
  assert.equal(operatorActor({ SUDO_USER: "alice", USER: "root" }), "cli:alice");
  assert.equal(operatorActor({ USER: "bob" }), "cli:bob");
  assert.match(operatorActor({}), /^cli:\S+$/);
});

test("confirm: --yes confirms, a terminal answers, no terminal refuses with exit 4", async () => {
  assert.equal(await confirm(captureIo(), "Go?", "rollback of m", true), true);
  const yes = captureIo({}, { answers: ["y"] });
  assert.equal(await confirm(yes, "Roll m back to 2?", "rollback of m", undefined), true);
  assert.deepEqual(yes.prompts, ["Roll m back to 2? [y/N] "]);
  assert.equal(await confirm(captureIo({}, { answers: ["YES "] }), "Go?", "x", false), true);
  assert.equal(await confirm(captureIo({}, { answers: [""] }), "Go?", "x", false), false);
  assert.equal(await confirm(captureIo({}, { answers: ["nope"] }), "Go?", "x", false), false);
  await assert.rejects(
    confirm(captureIo(), "Go?", "rollback of m", undefined),
    (e: unknown) =>
      e instanceof RefusedError &&
      e.exitCode === ExitCode.refused &&
      /no terminal/.test(e.message) &&
      /--yes/.test(e.hint ?? ""),
  );
});

test("consumed(model, id): undefined while pending, the outcome once consumed", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tfs-cli-intent-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const state = await openLocalState(dir);
  const intent = await state.intents.put({ model: "m", kind: "unpin", args: {}, by: "cli:alice" });
  assert.equal(await state.intents.consumed("m", intent.id), undefined);
  await state.intents.markConsumed("m", intent.id, "daemon", {
    step: "set-pin",
    ok: true,
    reason: "recorded",
  });
  const consumed = await state.intents.consumed("m", intent.id);
  assert.equal(consumed?.id, intent.id);
  assert.equal(consumed?.consumedBy, "daemon");
  assert.deepEqual(consumed?.outcome, { step: "set-pin", ok: true, reason: "recorded" });
  assert.equal(await state.intents.consumed("other", intent.id), undefined);
});
