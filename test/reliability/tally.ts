// How the reliability suite counts what it survived: each test appends JSON lines to
// `$TFS_ROLLOUT_RELIABILITY_DIR/tallies.jsonl` (set by scripts/reliability-run.ts); scripts/reliability-summary.ts
// totals them into issue 9's table. Without the variable (a plain `node --test` run) nothing is written.
import { appendFileSync } from "node:fs";
import { join } from "node:path";

export const TALLY_KINDS = [
  "kill_points",
  "faults",
  "bad_inputs",
  "security_checks",
  "invariant_violations",
  "data_lost",
  "rename_race_losses",
] as const;
export type TallyKind = (typeof TALLY_KINDS)[number];

export interface TallyLine {
  kind: TallyKind;
  count: number;
  /** What was survived or broken, e.g. `kill at promote:begin` or the violation's text. */
  what: string;
}

export const TALLY_DIR_ENV = "TFS_ROLLOUT_RELIABILITY_DIR";
export const TALLY_FILE = "tallies.jsonl";

export function tally(kind: TallyKind, what: string, count = 1): void {
  const dir = process.env[TALLY_DIR_ENV];
  if (dir === undefined || dir === "") return;
  const line: TallyLine = { kind, count, what };
  // One small O_APPEND write per line: concurrent test files never interleave within a line.
  appendFileSync(join(dir, TALLY_FILE), `${JSON.stringify(line)}\n`);
}
