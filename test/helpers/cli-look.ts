// Helpers for the tests of the commands that only look (status, history, plan, smoke): run a command in-process
// with the world's flags, and snapshot a directory tree to prove a command changed nothing.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/program.js";
import { captureIo } from "./capture-io.js";
import type { World } from "./rollout-world.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** The daemon's flags for this world (config, models.config, gRPC address, state dir). */
export const worldFlags = (world: World): string[] => [
  `--config=${world.daemonConfig}`,
  `--model-config-file=${world.configFile}`,
  `--grpc=127.0.0.1:${world.emulator.ports.grpc_port}`,
  `--state-dir=${world.stateDir}`,
];

export async function cli(args: string[]): Promise<CliRun> {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out, err: io.err };
}

export function parseJson<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.out) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.out}\nstderr:\n${run.err}`);
  }
}

/**
 * Every entry under `dir` (or "missing"): path, type, mode, size, mtime (ns) and a digest of each file's bytes.
 * Two equal snapshots mean nothing was created, removed, renamed, written or touched.
 */
export function snapshotTree(dir: string): string {
  if (!existsSync(dir)) return "missing";
  const lines: string[] = [];
  const walk = (absolute: string, relative: string) => {
    for (const name of readdirSync(absolute).sort()) {
      const path = join(absolute, name);
      const rel = relative === "" ? name : `${relative}/${name}`;
      const s = lstatSync(path, { bigint: true });
      const digest = s.isFile() ? createHash("sha256").update(readFileSync(path)).digest("hex") : "";
      lines.push(`${rel} ${s.mode} ${s.size} ${s.mtimeNs} ${digest}`);
      if (s.isDirectory()) walk(path, rel);
    }
  };
  const root = lstatSync(dir, { bigint: true });
  lines.push(`. ${root.mode} ${root.mtimeNs}`);
  walk(dir, "");
  return lines.join("\n");
}
