// Totals the reliability suite's tallies (test/reliability/tally.ts) into issue 9's table. Exits 1 when any
// invariant was violated, any data was lost, or nothing at all was tallied (the suite did not really run).
// Usage: tsx scripts/reliability-summary.ts <tally dir>
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TALLY_FILE, TALLY_KINDS, type TallyKind, type TallyLine } from "../test/reliability/tally.js";

const LABELS: Record<TallyKind, string> = {
  kill_points: "kill points survived",
  faults: "faults survived",
  bad_inputs: "bad inputs tried",
  security_checks: "security checks passed",
  invariant_violations: "invariant violations (must be 0)",
  data_lost: "data lost (must be 0)",
  // Measured, not failed: an operator's rename landing between our last stat and our rename (file-stamp.ts).
  rename_race_losses: "operator edits lost to the rename race (no CAS in POSIX)",
};

export function summarize(lines: TallyLine[]): { table: string; failed: string[] } {
  const totals = new Map<TallyKind, number>(TALLY_KINDS.map((k) => [k, 0]));
  for (const line of lines) totals.set(line.kind, (totals.get(line.kind) ?? 0) + line.count);
  const width = Math.max(...Object.values(LABELS).map((l) => l.length));
  const table = TALLY_KINDS.map(
    (k) => `${LABELS[k].padEnd(width)}  ${String(totals.get(k)).padStart(7)}`,
  ).join("\n");
  const failed = lines
    .filter((l) => l.kind === "invariant_violations" || l.kind === "data_lost")
    .map((l) => `${l.kind}: ${l.what}`);
  if (lines.length === 0) failed.push("no tallies at all: did the reliability tests run?");
  return { table, failed };
}

function main(): void {
  const dir = process.argv[2];
  if (dir === undefined) {
    console.error("usage: tsx scripts/reliability-summary.ts <tally dir>");
    process.exit(2);
  }
  const file = join(dir, TALLY_FILE);
  const lines = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as TallyLine)
    : [];
  const { table, failed } = summarize(lines);
  console.log(`\nreliability summary\n${table}`);
  for (const f of failed) console.error(`  ${f}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

// Run as a script, not when a test imports summarize().
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
