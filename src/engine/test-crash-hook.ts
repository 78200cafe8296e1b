/**
 * TEST-ONLY crash hook for the crash-recovery end-to-end tests (test/reliability/kill-points.test.ts,
 * test/reliability/fleet-kill-points.test.ts, test/daemon-recovery-e2e.test.ts): with
 * `TFS_ROLLOUT_TEST_CRASH_AT=<point>` in the environment, the daemon SIGKILLs itself right after journaling that
 * phase of the first step it matches. A point is `<step kind>:<begin|done>`, e.g. `promote:begin` (journaled, not
 * yet applied) or `quarantine:done`; a fleet report may name its phase, e.g. `fleet-report/passed:begin`.
 * `TFS_ROLLOUT_TEST_CRASH_FILE=<path>` instead reads the point from that file at every step (absent or empty:
 * none), so a test can arm a running daemon, e.g. whichever fleet replica coordinates now. Read once at start;
 * unset (always, in production) it does nothing.
 */
import { readFileSync } from "node:fs";
import type { Step } from "../controller/types.js";

const CRASH_AT = process.env.TFS_ROLLOUT_TEST_CRASH_AT;
const CRASH_FILE = process.env.TFS_ROLLOUT_TEST_CRASH_FILE;

function armed(): string | undefined {
  if (CRASH_AT !== undefined) return CRASH_AT;
  if (CRASH_FILE === undefined) return undefined;
  try {
    return readFileSync(CRASH_FILE, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function crashPointForTests(step: Step, phase: "begin" | "done"): void {
  const point = armed();
  if (point === undefined || point === "") return;
  const qualified = step.kind === "fleet-report" ? `${step.kind}/${step.phase}:${phase}` : undefined;
  if (point === `${step.kind}:${phase}` || point === qualified) process.kill(process.pid, "SIGKILL");
}
