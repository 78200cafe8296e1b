import { spawn } from "node:child_process";

/** Sends one notification (newline-separated VARIABLE=VALUE fields); resolves, never rejects. */
export type NotifySend = (fields: readonly string[]) => Promise<NotifyResult>;

export type NotifyResult = { ok: true } | { ok: false; reason: string };

export interface SystemdNotifyOptions {
  /** The binary; "systemd-notify" from PATH by default. */
  command?: string;
  env: NodeJS.ProcessEnv;
  /** A hung systemd-notify is killed after this long. */
  timeoutMs?: number;
}

/**
 * Runs `systemd-notify FIELD...` as a child process, so the event loop never waits on the socket.
 * Not `--no-block`: without it systemd-notify waits (BARRIER=1) until the service manager has processed the message,
 * which is what makes a child's notification reliable; with --no-block it may exit before PID 1 attributes the
 * datagram to our unit and the message is dropped (systemd-notify(1), "--no-block").
 */
export function systemdNotifyProcess(options: SystemdNotifyOptions): NotifySend {
  const command = options.command ?? "systemd-notify";
  const timeoutMs = options.timeoutMs ?? 5000;
  return (fields) =>
    new Promise((resolve) => {
      let stderr = "";
      let settled = false;
      const finish = (result: NotifyResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const child = spawn(command, [...fields], { env: options.env, stdio: ["ignore", "ignore", "pipe"] });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish({ ok: false, reason: `${command} did not finish within ${timeoutMs} ms` });
      }, timeoutMs);
      timer.unref();
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => {
        if (stderr.length < 2000) stderr += chunk;
      });
      child.on("error", (error) => finish({ ok: false, reason: `cannot run ${command}: ${error.message}` }));
      child.on("close", (code, signal) => {
        if (code === 0) finish({ ok: true });
        else
          finish({
            ok: false,
            reason: `${command} ${fields.join(" ")} exited with ${signal ?? `code ${code}`}: ${stderr.trim() || "(no message)"}`,
          });
      });
    });
}
