/**
 * What every operator command (status, history, promote, rollback, pin, unpin, retry, plan, smoke; issue 6) shares
 * with the daemon: the same flags (`--config`, `--model-config-file`, `--grpc`, `--rest`, `--state-dir`), the same
 * loaded DaemonConfig, and the same Engine, so a command applies its intent through the very reconcile code and
 * locks the daemon uses. Logs go to stderr, human-readable (warnings and errors; every step with `--verbose`);
 * stdout keeps the command's output: a table, or JSON with `--json`.
 */
import { userInfo } from "node:os";
import type { Command } from "commander";
import {
  addDaemonConfigOptions,
  daemonConfigFlags,
  loadDaemonConfig,
  nodeConfigFileReader,
} from "../daemon-config/index.js";
import type { DaemonConfig } from "../daemon-config/types.js";
import { Engine } from "../engine/engine.js";
import { createEngineLogger, type EngineLogger } from "../engine/logger.js";
import type { CommandContext } from "../program.js";
import type { Actor } from "../state/store.js";

export interface OperatorOptions {
  json?: boolean;
  verbose?: boolean;
}

export interface Operator {
  config: DaemonConfig;
  engine: Engine;
  log: EngineLogger;
  /** Stops the engine (no watcher runs in a command) and closes the gRPC channel. */
  close(): Promise<void>;
}

/** The daemon's flags plus `--json` and `--verbose` (step logs on stderr at info level instead of warn). */
export function addOperatorOptions(command: Command): Command {
  addDaemonConfigOptions(command);
  return command
    .option("--json", "machine-readable JSON on stdout")
    .option("--verbose", "log every step on stderr (default: warnings and errors only)");
}

/** Loads the daemon config exactly as `tfs-rollout daemon` would and opens the engine without watching anything. */
export async function openOperator(
  ctx: CommandContext,
  opts: Record<string, unknown>,
  command: string,
): Promise<Operator> {
  const flags = daemonConfigFlags(opts);
  const config = await loadDaemonConfig(flags, ctx.io.env, nodeConfigFileReader(ctx.io.cwd));
  const log = createEngineLogger({
    write: (line) => ctx.io.stderr(line),
    level: opts.verbose === true ? "info" : "warn",
    pretty: true,
  });
  // Never as this replica's fleet member: fleet-mode commands write fleet intents (fleet-intent.ts) instead.
  const engine = await Engine.open(config, log, { command, actor: operatorActor(ctx.io.env), fleet: false });
  return { config, engine, log, close: () => engine.stop() };
}

/** Runs `fn` with an open operator and always closes it. */
export async function withOperator<T>(
  ctx: CommandContext,
  opts: Record<string, unknown>,
  command: string,
  fn: (operator: Operator) => Promise<T>,
): Promise<T> {
  const operator = await openOperator(ctx, opts, command);
  try {
    return await fn(operator);
  } finally {
    await operator.close();
  }
}

/** `cli:<user>`: the person behind sudo when there is one. */
export function operatorActor(env: NodeJS.ProcessEnv): Actor {
  const name = env.SUDO_USER || env.USER || env.LOGNAME || safeUserName() || "unknown";
  return `cli:${name.replace(/\s+/g, "_")}`;
}

function safeUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
