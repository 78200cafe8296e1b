/** Line-level helpers for byte-preserving edits: where to insert, what to remove, which indentation to reuse. */

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Applies non-overlapping edits to the text. Insertions at the same offset keep the order they were given in, and a
 * removal starting where an insertion goes is applied first (the inserted text stays).
 */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const ordered = edits
    .map((edit, index) => ({ edit, index }))
    .sort(
      (a, b) =>
        b.edit.start - a.edit.start ||
        b.edit.end - b.edit.start - (a.edit.end - a.edit.start) ||
        b.index - a.index,
    );
  let result = text;
  let limit = Infinity;
  for (const { edit } of ordered) {
    if (edit.end > limit) throw new Error(`overlapping edits at offset ${edit.start}`);
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
    limit = edit.start;
  }
  return result;
}

export function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

/** Offset of the line terminator ending the line that holds pos (`\r\n` counts from its `\r`), or text length. */
export function lineEnd(text: string, pos: number): number {
  const newline = text.indexOf("\n", pos);
  if (newline < 0) return text.length;
  return newline > 0 && text[newline - 1] === "\r" ? newline - 1 : newline;
}

/** The whitespace that starts the line holding pos. */
export function lineIndent(text: string, pos: number): string {
  const start = lineStart(text, pos);
  return /^[ \t]*/.exec(text.slice(start, pos))?.[0] ?? "";
}

export function eolOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** True when only whitespace precedes pos on its line. */
export function startsLine(text: string, pos: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, pos), pos));
}

/** True when the rest of the line from pos is blank or a comment. */
export function endsLine(text: string, pos: number): boolean {
  return /^[ \t]*(#.*)?$/.test(text.slice(pos, lineEnd(text, pos)));
}

/**
 * The range to delete to remove [start, end): the whole line(s) when nothing else shares them (a trailing comment
 * goes with the entry), otherwise just the span and the blanks after it.
 */
export function removalRange(text: string, start: number, end: number): { start: number; end: number } {
  if (startsLine(text, start) && endsLine(text, end)) {
    const from = lineStart(text, start);
    const to = lineEnd(text, end);
    const terminator = text.startsWith("\r\n", to) ? 2 : text.startsWith("\n", to) ? 1 : 0;
    if (terminator > 0) return { start: from, end: to + terminator };
    // Last line without a newline: take the newline before it instead.
    const before = from >= 2 && text.startsWith("\r\n", from - 2) ? 2 : from >= 1 ? 1 : 0;
    return { start: from - before, end: to };
  }
  let to = end;
  while (text[to] === " " || text[to] === "\t") to++;
  return { start, end: to };
}
