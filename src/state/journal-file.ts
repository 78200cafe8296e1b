/**
 * The journal's file format, without I/O: one JSON object per line, each a JournalEntry. Reading is tolerant: a
 * line that does not parse or is not an entry (a torn last line after a crash, a damaged block) is skipped and
 * reported, never fatal. A last line without its newline is accepted when it is a whole entry (the crash hit
 * between the bytes and the newline, which are one write).
 */
import { JOURNAL_PHASES, type JournalEntry } from "./store.js";

export interface JournalProblem {
  /** 1-based line number in the file. */
  line: number;
  message: string;
  /** The start of the offending text, for the log. */
  excerpt: string;
}

export interface ParsedJournal {
  entries: JournalEntry[];
  problems: JournalProblem[];
}

export function serializeJournalEntry(entry: JournalEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

export function parseJournal(text: string): ParsedJournal {
  const entries: JournalEntry[] = [];
  const problems: JournalProblem[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const torn = index === lines.length - 1;
    const problem = (message: string) =>
      problems.push({
        line: index + 1,
        message: torn ? `${message} (torn last line)` : message,
        excerpt: line.slice(0, 80),
      });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problem("not valid JSON");
      return;
    }
    const why = entryProblem(value);
    if (why) problem(why);
    else entries.push(value as JournalEntry);
  });
  return { entries, problems };
}

function entryProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const entry = value as Record<string, unknown>;
  for (const key of ["id", "model", "at", "by"] as const)
    if (typeof entry[key] !== "string") return `field "${key}" is missing or not a string`;
  if (!JOURNAL_PHASES.includes(entry.phase as never))
    return `field "phase" must be one of ${JOURNAL_PHASES.join(", ")}`;
  if (!("step" in entry)) return `field "step" is missing`;
  return undefined;
}

/** For every id whose latest entry is "begin": that entry, in file order. */
export function unfinishedEntries(entries: readonly JournalEntry[]): JournalEntry[] {
  const latest = new Map<string, JournalEntry>();
  for (const entry of entries) {
    latest.delete(entry.id); // re-insert so the map's order is that of each id's latest entry
    latest.set(entry.id, entry);
  }
  return [...latest.values()].filter((entry) => entry.phase === "begin");
}

/**
 * What compaction keeps: the newest `keep` entries plus the latest "begin" of every unfinished step, in file
 * order, so the unfinished set is unchanged.
 */
export function compactEntries(entries: readonly JournalEntry[], keep: number): JournalEntry[] {
  const cut = Math.max(0, entries.length - keep);
  const unfinished = new Set(unfinishedEntries(entries).map((entry) => entry.id));
  const latestIndex = new Map<string, number>();
  entries.forEach((entry, index) => latestIndex.set(entry.id, index));
  return entries.filter(
    (entry, index) => index >= cut || (unfinished.has(entry.id) && latestIndex.get(entry.id) === index),
  );
}
