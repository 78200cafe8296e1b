/** Small text helpers for the operator commands' human output: aligned tables, durations and times. */

/** Columns padded to their widest cell, separated by two spaces; trailing spaces trimmed. */
export function renderTable(headers: string[], rows: string[][], indent = ""): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) => `${indent}${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd())
    .map((line) => `${line}\n`)
    .join("");
}

/** 850 → "850ms", 2500 → "2.5s", 90_000 → "1m30s", 7_200_000 → "2h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", rest ? `${rest}s` : ""].join("") || "0s";
}

/** ISO time without milliseconds: "2026-11-22T01:02:03Z". */
export function formatTime(at: number | string | undefined): string {
  if (at === undefined) return "-";
  const ms = typeof at === "number" ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Cuts a one-line text to `max` characters. */
export function clipText(text: string, max = 100): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
