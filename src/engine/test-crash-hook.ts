/**
 * TEST-ONLY crash hook for the crash-recovery end-to-end tests (test/reliability/kill-points.test.ts, test/daemon-recovery-e2e.test.ts):
 * with `TFS_ROLLOUT_TEST_CRASH_AT=<step kind>:<begin|done>` in the environment, the daemon SIGKILLs itself right
 * after journaling that phase of the first step of that kind, e.g. `promote:begin` (journaled, not yet applied)
 * or `quarantine:done`. Read once at start; unset (always, in production) it does nothing.
 */
import type { Step } from "../controller/types.js";

const CRASH_AT = process.env.TFS_ROLLOUT_TEST_CRASH_AT;

export function crashPointForTests(step: Step, phase: "begin" | "done"): void {
  if (CRASH_AT !== undefined && CRASH_AT === `${step.kind}:${phase}`) process.kill(process.pid, "SIGKILL");
}
