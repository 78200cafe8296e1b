/**
 * A unified diff of two texts (`diff -u` format, 3 lines of context), for `tfs-rollout plan` to show the exact
 * models.config change. Myers' O(ND) algorithm: the planned edits touch a few lines, so D is small.
 */

type Op = { kind: " " | "-" | "+"; line: string };

export function unifiedDiff(
  before: string,
  after: string,
  fromName: string,
  toName: string,
  context = 3,
): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  let out = `--- ${fromName}\n+++ ${toName}\n`;
  for (const hunk of hunks(ops, context)) out += hunk;
  return out;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  else lines[lines.length - 1] += "\n\\ No newline at end of file";
  return lines;
}

/** The edit script turning `a` into `b` (Myers; backtracking after J. Coglan's description). */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  const pick = (vd: Int32Array, k: number, d: number): number =>
    k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
  search: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const prevK = pick(v, k, d);
      let x = prevK === k + 1 ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) break search;
    }
  }
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = d === 0 ? 0 : pick(vd, k, d);
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: " ", line: a[x]! });
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: "+", line: b[prevY]! });
      else ops.push({ kind: "-", line: a[prevX]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

function hunks(ops: Op[], context: number): string[] {
  const changed = ops.map((op, i) => (op.kind === " " ? -1 : i)).filter((i) => i >= 0);
  const out: string[] = [];
  let i = 0;
  while (i < changed.length) {
    const start = Math.max(0, changed[i]! - context);
    let end = changed[i]!;
    while (i + 1 < changed.length && changed[i + 1]! - end <= 2 * context + 1) end = changed[++i]!;
    end = Math.min(ops.length - 1, end + context);
    i++;
    let aLine = 1;
    let bLine = 1;
    for (const op of ops.slice(0, start)) {
      if (op.kind !== "+") aLine++;
      if (op.kind !== "-") bLine++;
    }
    const body = ops.slice(start, end + 1);
    const aCount = body.filter((op) => op.kind !== "+").length;
    const bCount = body.filter((op) => op.kind !== "-").length;
    const range = (line: number, count: number) => `${count === 0 ? line - 1 : line},${count}`;
    out.push(
      `@@ -${range(aLine, aCount)} +${range(bLine, bCount)} @@\n${body.map((op) => `${op.kind}${op.line}\n`).join("")}`,
    );
  }
  return out;
}
