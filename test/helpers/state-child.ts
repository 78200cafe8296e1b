// A separate process for the state tests (run with `node --import tsx`): the daemon or a CLI command, as far as
// the state directory can tell. Modes:
//   hold <state> <lock>                    take the lock, print "acquired", release when stdin gets a line, exit
//   contend <state> <log> <rounds>         print "ready", wait for a line on stdin, then take the config lock
//                                          `rounds` times, logging enter/exit lines around a short piece of work
//   journal <state> <model> <count> <tag>  append `count` begin entries (ids <tag>-<i>)
// <lock> is "config" or "model:<name>".
import { appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { openLocalState } from "../../src/state/local-store.js";

const [mode, stateDir, ...rest] = process.argv.slice(2);
const state = await openLocalState(stateDir!, {
  command: `state-child ${mode}`,
  journalMaxBytes: 2048,
  lockPollMs: 2,
});
const stdinLine = () =>
  new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.once("line", () => {
      lines.close();
      resolve();
    });
  });

if (mode === "hold") {
  const lock = rest[0]!;
  const released = stdinLine();
  const body = async () => {
    process.stdout.write("acquired\n");
    await released;
  };
  if (lock === "config") await state.locks.withConfigLock(body);
  else await state.locks.withModelLock(lock.slice("model:".length), body);
} else if (mode === "contend") {
  const [log, rounds] = rest;
  const now = () => (performance.timeOrigin + performance.now()).toFixed(3);
  process.stdout.write("ready\n");
  await stdinLine();
  for (let round = 0; round < Number(rounds); round++) {
    await state.locks.withConfigLock(async () => {
      appendFileSync(log!, `enter ${process.pid} ${now()}\n`);
      await sleep(2); // the work done under the lock
      appendFileSync(log!, `exit ${process.pid} ${now()}\n`);
    });
  }
} else if (mode === "journal") {
  const [model, count, tag] = rest;
  for (let i = 0; i < Number(count); i++)
    await state.journal.append({
      id: `${tag}-${i}`,
      model: model!,
      step: { i },
      phase: "begin",
      by: "daemon",
    });
} else {
  throw new Error(`unknown mode ${mode}`);
}
// stdin stays open in some modes; the work is done.
process.exit(0);
