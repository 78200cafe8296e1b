// A fake systemd NOTIFY_SOCKET for the daemon's end-to-end tests. Node cannot open a Unix datagram socket, so the
// receiver is a small python3 process: it binds the socket, prints every datagram as one JSON line, and closes any
// file descriptor passed along (systemd-notify's BARRIER=1 waits until the receiver closed it, as PID 1 does).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { waitFor } from "./emulator-harness.js";

const RECEIVER = `
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data, fds, _flags, _addr = socket.recv_fds(s, 65536, 16)
    for fd in fds:
        os.close(fd)
    print(json.dumps({"fields": data.decode("utf-8", "replace").split("\\n")}), flush=True)
`;

export interface NotifyMessage {
  /** VARIABLE=VALUE fields of one datagram. */
  fields: string[];
  /** Order of arrival, from 0. */
  index: number;
}

export interface NotifySocket {
  path: string;
  /** Every datagram except systemd-notify's own BARRIER=1, in arrival order. */
  messages: NotifyMessage[];
  /** Messages carrying the field (e.g. "READY=1"), or a field starting with it (e.g. "STATUS="). */
  with(field: string): NotifyMessage[];
  /** Resolves with the first message carrying the field after `after` (an index; -1 for any). */
  next(field: string, after?: number, timeoutMs?: number): Promise<NotifyMessage>;
  /** Called on each message as it arrives (after it was recorded). */
  onMessage?: (message: NotifyMessage) => void;
  close(): Promise<void>;
}

export async function startNotifySocket(): Promise<NotifySocket> {
  const dir = mkdtempSync(join(tmpdir(), "tfs-notify-"));
  const path = join(dir, "notify.sock");
  const child: ChildProcess = spawn("python3", ["-c", RECEIVER, path], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const messages: NotifyMessage[] = [];
  let listening = false;
  const matches = (message: NotifyMessage, field: string) =>
    message.fields.some((f) => (field.endsWith("=") ? f.startsWith(field) : f === field));
  const socket: NotifySocket = {
    path,
    messages,
    with: (field) => messages.filter((message) => matches(message, field)),
    next: (field, after = -1, timeoutMs = 30_000) =>
      waitFor(
        `notification ${field}`,
        () => messages.find((message) => message.index > after && matches(message, field)),
        timeoutMs,
      ),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const parsed = JSON.parse(line) as { listening?: string; fields?: string[] };
    if (parsed.listening !== undefined) listening = true;
    if (parsed.fields === undefined || parsed.fields.includes("BARRIER=1")) return;
    const message = { fields: parsed.fields, index: messages.length };
    messages.push(message);
    socket.onMessage?.(message);
  });
  try {
    await waitFor("notify receiver listening", () => listening || child.exitCode !== null, 10_000);
    if (!listening) throw new Error(`the python3 notify receiver exited: ${stderr}`);
  } catch (error) {
    await socket.close();
    throw error;
  }
  return socket;
}
