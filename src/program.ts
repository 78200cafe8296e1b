import { Command, CommanderError } from "commander";
import { describeError, exitCodeOf, ExitCode } from "./errors.js";
import type { CliIo } from "./commands/io.js";
import { registerInspect } from "./commands/inspect.js";
import { registerConfig } from "./commands/config.js";
import { registerDaemon } from "./commands/daemon.js";
import { registerRollback } from "./commands/rollback.js";
import { registerPromote } from "./commands/promote.js";
import { registerPin } from "./commands/pin.js";
import { registerRetry } from "./commands/retry.js";
import { registerStatus } from "./commands/status.js";
import { registerHistory } from "./commands/history.js";
import { registerPlan } from "./commands/plan.js";
import { registerSmoke } from "./commands/smoke.js";

/** Each command module registers itself; `result.code` is set by the action that ran. */
export interface CommandContext {
  io: CliIo;
  result: { code: number };
}

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command("tfs-rollout")
    .description("Safe model version rollouts for TensorFlow Serving")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout(text),
      writeErr: (text) => ctx.io.stderr(text),
    })
    .showHelpAfterError("(run with --help for usage)");
  registerInspect(program, ctx);
  registerConfig(program, ctx);
  registerDaemon(program, ctx);
  registerStatus(program, ctx);
  registerHistory(program, ctx);
  registerPlan(program, ctx);
  registerSmoke(program, ctx);
  registerRollback(program, ctx);
  registerPromote(program, ctx);
  registerPin(program, ctx);
  registerRetry(program, ctx);
  return program;
}

/** Runs one command line (argv without node and script) and returns its exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx: CommandContext = { io, result: { code: ExitCode.ok } };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return ExitCode.ok;
      if (error.code === "commander.help") return ExitCode.ok;
      return ExitCode.usage;
    }
    io.stderr(`tfs-rollout: ${describeError(error)}\n`);
    return exitCodeOf(error);
  }
}
