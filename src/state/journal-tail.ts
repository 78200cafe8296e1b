/**
 * The journal files as last read, kept in memory between reads, so a reconcile pass does not read and parse the
 * whole journal again for the entries of its last step. A re-read costs one stat when nothing changed, and reads
 * only the bytes appended since otherwise. That is sound because a journal file is only ever appended to (one
 * whole line per write) or replaced by a rename (compaction: a new inode):
 * - same inode, same size, same mtime and ctime: unchanged, the cached parse is returned;
 * - same inode, larger, the cached text ended with a newline and its last bytes are still there: the new bytes
 *   are read and parsed on their own (the last bytes are checked because a replaced file's inode number is soon
 *   reused by the next replacement);
 * - anything else (replaced, shrunk, rewritten in place, a cached torn last line): read again whole.
 * Any writer is seen this way (the daemon, an operator command, the bake monitor), not only this process's.
 * What is kept is bounded (`maxBytes` of journal text, least recently read dropped first): a thousand models with
 * journals near their compaction size would otherwise keep gigabytes of parsed entries.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { parseJournal, type ParsedJournal } from "./journal-file.js";

interface FileKey {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

interface Cached {
  key: FileKey;
  parsed: ParsedJournal;
  /** Lines before the end of the cached text (problems in appended text are numbered after them). */
  lines: number;
  endsWithNewline: boolean;
  /** The cached text's last bytes, found again at the same offset when the file only grew. */
  last: Buffer;
}

const CHECKED_BYTES = 256;

export class JournalTail {
  /** In least recently read order (a read moves its file to the end). */
  readonly #files = new Map<string, Cached>();
  #bytes = 0n;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** The file's parse (ENOENT when it does not exist, as from readFile); the caller may keep the arrays. */
  async read(path: string): Promise<ParsedJournal> {
    const cached = this.#files.get(path);
    if (cached !== undefined) {
      const now = await stat(path, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
        this.forget(path);
        throw error;
      });
      if (sameFile(now, cached.key) && now.size === cached.key.size && sameTimes(now, cached.key))
        return this.#keep(path, cached.key, cached);
    }
    const handle = await open(path, "r");
    try {
      const info = await handle.stat({ bigint: true });
      const key: FileKey = {
        dev: info.dev,
        ino: info.ino,
        size: info.size,
        mtimeNs: info.mtimeNs,
        ctimeNs: info.ctimeNs,
      };
      const grown =
        cached !== undefined &&
        cached.endsWithNewline &&
        sameFile(info, cached.key) &&
        info.size > cached.key.size;
      if (grown) {
        const from = Number(cached.key.size) - cached.last.length;
        const bytes = await readFrom(handle, from, Number(info.size) - from);
        if (bytes.subarray(0, cached.last.length).equals(cached.last)) {
          const added = bytes.subarray(cached.last.length);
          key.size = cached.key.size + BigInt(added.length);
          return this.#keep(path, key, extend(cached, added));
        }
      }
      const bytes = await readFrom(handle, 0, Number(info.size));
      key.size = BigInt(bytes.length);
      return this.#keep(path, key, whole(bytes));
    } finally {
      await handle.close();
    }
  }

  #keep(path: string, key: FileKey, next: Omit<Cached, "key">): ParsedJournal {
    this.forget(path);
    this.#files.set(path, { ...next, key });
    this.#bytes += key.size;
    for (const oldest of this.#files.keys()) {
      if (this.#bytes <= BigInt(this.maxBytes) || oldest === path) break;
      this.forget(oldest);
    }
    return copy(next.parsed);
  }

  /** Drops what is known of `path` (after this process replaced it). */
  forget(path: string): void {
    const cached = this.#files.get(path);
    if (cached === undefined) return;
    this.#bytes -= cached.key.size;
    this.#files.delete(path);
  }

  /** Bytes of journal text whose parse is kept (tests). */
  get keptBytes(): number {
    return Number(this.#bytes);
  }
}

async function readFrom(handle: FileHandle, from: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(Math.max(0, length));
  let filled = 0;
  while (filled < bytes.length) {
    const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, from + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}

function lastBytes(before: Buffer, added: Buffer): Buffer {
  const all = added.length >= CHECKED_BYTES ? added : Buffer.concat([before, added]);
  return Buffer.from(all.subarray(Math.max(0, all.length - CHECKED_BYTES)));
}

function whole(bytes: Buffer): Omit<Cached, "key"> {
  const text = bytes.toString("utf8");
  return {
    parsed: parseJournal(text),
    lines: countLines(text),
    endsWithNewline: endsWithNewline(text),
    last: lastBytes(Buffer.alloc(0), bytes),
  };
}

function extend(cached: Cached, bytes: Buffer): Omit<Cached, "key"> {
  const text = bytes.toString("utf8");
  const added = parseJournal(text);
  return {
    parsed: {
      entries: [...cached.parsed.entries, ...added.entries],
      problems: [
        ...cached.parsed.problems,
        ...added.problems.map((p) => ({ ...p, line: p.line + cached.lines })),
      ],
    },
    lines: cached.lines + countLines(text),
    endsWithNewline: endsWithNewline(text),
    last: lastBytes(cached.last, bytes),
  };
}

function copy(parsed: ParsedJournal): ParsedJournal {
  return { entries: [...parsed.entries], problems: [...parsed.problems] };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function endsWithNewline(text: string): boolean {
  return text.length === 0 || text.endsWith("\n");
}

function sameFile(info: { dev: bigint; ino: bigint }, key: FileKey): boolean {
  return info.dev === key.dev && info.ino === key.ino;
}

function sameTimes(info: { mtimeNs: bigint; ctimeNs: bigint }, key: FileKey): boolean {
  return info.mtimeNs === key.mtimeNs && info.ctimeNs === key.ctimeNs;
}
