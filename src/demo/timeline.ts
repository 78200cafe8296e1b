/**
 * The demo's timeline: the daemon's JSON log events (one per applied step, plus what each model waits for) merged
 * with the demo's own actions, as aligned lines "time since start, model, version, step, outcome, reason".
 */

export type LogEvent = Record<string, unknown>;

export interface DemoNote {
  time: number;
  text: string;
}

/** Parses JSON log lines; anything else (there should be nothing else on the daemon's stdout) is skipped. */
export function parseEvents(lines: readonly string[]): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of lines) {
    try {
      const event: unknown = JSON.parse(line);
      if (event !== null && typeof event === "object" && !Array.isArray(event))
        events.push(event as LogEvent);
    } catch {
      // not an event
    }
  }
  return events;
}

/** Step events (and waits) of one step kind, optionally of one version. */
export function stepEvents(events: readonly LogEvent[], step: string, version?: string): LogEvent[] {
  return events.filter((e) => e.step === step && (version === undefined || e.version === version));
}

/** The daemon's "waits" events say why nothing happens; admission-pending is the slow-copy hold. */
function waitRow(event: LogEvent): { outcome: string; reason: string } {
  const what = String(event.waiting_for ?? "");
  const pending = /^admission-pending: (.*?)(?: still being copied)?$/.exec(what);
  if (pending) return { outcome: "held", reason: `held: still being copied (${pending[1]})` };
  return { outcome: "waits", reason: what };
}

interface Row {
  time: number;
  cells: [string, string, string, string, string];
}

function rowOf(event: LogEvent): Row | undefined {
  if (typeof event.step !== "string" || typeof event.time !== "number") return undefined;
  const { outcome, reason } =
    event.step === "wait"
      ? waitRow(event)
      : { outcome: String(event.outcome ?? ""), reason: String(event.reason ?? "") };
  return {
    time: event.time,
    cells: [
      String(event.model ?? ""),
      event.version === undefined ? "" : `v${String(event.version)}`,
      event.step,
      outcome,
      reason,
    ],
  };
}

const seconds = (ms: number): string => `+${(Math.max(0, ms) / 1000).toFixed(1)}s`;

/** Timeline lines, oldest first; `start` is the demo's start time (epoch ms). */
export function timeline(events: readonly LogEvent[], notes: readonly DemoNote[], start: number): string[] {
  const rows = events.map(rowOf).filter((row): row is Row => row !== undefined);
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...rows.map((row) => row.cells[i]!.length)));
  const entries = [
    ...rows.map((row) => ({
      time: row.time,
      text: [...row.cells.slice(0, 4).map((cell, i) => cell.padEnd(widths[i]!)), row.cells[4]]
        .join("  ")
        .trimEnd(),
    })),
    ...notes.map((note) => ({ time: note.time, text: `-- demo: ${note.text}` })),
  ];
  entries.sort((a, b) => a.time - b.time);
  return entries.map((entry) => `${seconds(entry.time - start).padStart(7)}  ${entry.text}`);
}
