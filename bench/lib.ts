// Shared by the benchmarks: percentiles, the `--quick` switch, and bench/results.json (each bench replaces its own
// entry, so one run of one bench keeps the others' latest numbers).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO } from "../test/helpers/emulator-harness.js";

export const QUICK = process.argv.includes("--quick");
export const RESULTS_FILE = join(REPO, "bench", "results.json");

export interface Distribution {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1)!) };
}

/** Records one bench's numbers in bench/results.json (quick runs are not recorded: they only keep the code alive). */
export function recordResult(name: string, result: Record<string, unknown>): void {
  if (QUICK) return;
  const all: Record<string, unknown> = existsSync(RESULTS_FILE)
    ? (JSON.parse(readFileSync(RESULTS_FILE, "utf8")) as Record<string, unknown>)
    : {};
  all[name] = {
    ...result,
    measured_at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      loadavg_1m: Math.round(loadavg()[0]! * 100) / 100,
    },
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

/** A fixed-width table for the terminal. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n");
}

export function ms(x: number): string {
  return `${x.toFixed(x < 10 ? 2 : 0)} ms`;
}
