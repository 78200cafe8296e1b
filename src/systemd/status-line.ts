/**
 * The daemon's one-line STATUS= for `systemctl status`: how many models, what the waiting ones wait for, and the
 * last promotion. Kept short (systemctl shows one line) and sent only when it changes.
 */
export interface DaemonStatus {
  models: readonly string[];
  /** What each waiting model waits for (Reconciler.waits()). */
  waits: ReadonlyMap<string, string>;
  lastPromotion?: { model: string; version: string; at: number };
}

const MAX_LENGTH = 200;

export function statusLine(status: DaemonStatus): string {
  const count = `${status.models.length} model${status.models.length === 1 ? "" : "s"}`;
  const waiting = [...status.waits].map(([model, what]) => `${model} waits (${what})`);
  const parts = [waiting.length === 0 ? `${count}, none waiting` : `${count}; ${waiting.join("; ")}`];
  const last = status.lastPromotion;
  if (last)
    parts.push(
      `last promotion: ${last.model} ${last.version} at ${new Date(last.at).toISOString().slice(0, 19)}Z`,
    );
  // Clipping shortens the waits, never the last promotion.
  const line = parts.join("; ");
  if (line.length <= MAX_LENGTH) return line;
  const tail = parts.length > 1 ? `; ${parts[1]}` : "";
  return `${parts[0]!.slice(0, MAX_LENGTH - tail.length - 1)}…${tail}`;
}

export interface StatusReporterOptions {
  read: () => DaemonStatus;
  send: (line: string) => void;
  /** How often waits are looked at (they change without a step; default 2 s). */
  intervalMs?: number;
}

/** Sends statusLine() whenever it changed: on update() and on a timer. Returns update and stop. */
export function startStatusReporter(options: StatusReporterOptions): { update(): void; stop(): void } {
  let last: string | undefined;
  const update = () => {
    const line = statusLine(options.read());
    if (line === last) return;
    last = line;
    options.send(line);
  };
  const timer = setInterval(update, options.intervalMs ?? 2000);
  timer.unref();
  return { update, stop: () => clearInterval(timer) };
}
