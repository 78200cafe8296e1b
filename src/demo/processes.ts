/**
 * The demo's child processes: the TF Serving emulator and the real `tfs-rollout daemon`, each a Node process running
 * this checkout's sources (through tsx when the demo itself runs from .ts, compiled .js otherwise).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUNNING_TS = import.meta.url.endsWith(".ts");

/** `node [--import tsx] <src file>` for a module relative to src/, e.g. "emulator/main". */
function nodeArgs(module: string, args: string[]): string[] {
  const file = fileURLToPath(new URL(`../${module}${RUNNING_TS ? ".ts" : ".js"}`, import.meta.url));
  return [...(RUNNING_TS ? ["--import", "tsx"] : []), file, ...args];
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** stdout so far, complete lines only. */
  lines(): string[];
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/** The checkout (or installed package) root: tsx resolves from there. */
const PACKAGE_ROOT = fileURLToPath(new URL(RUNNING_TS ? "../.." : "../../..", import.meta.url));

export function startChild(name: string, module: string, args: string[]): Child {
  const child = spawn(process.execPath, nodeArgs(module, args), {
    cwd: PACKAGE_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const done = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    process: child,
    pid: child.pid ?? -1,
    lines: () => out.split("\n").slice(0, -1),
    stderr: () => err,
    exited,
    async stop(graceMs = 5000) {
      if (!done()) child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!done()) child.kill("SIGKILL");
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `check` every 50 ms until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  abort?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    const aborted = abort?.();
    if (aborted !== undefined) throw new Error(`${what}: ${aborted}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
