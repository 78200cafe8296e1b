import type { Command } from "commander";
import type { CommandContext } from "../program.js";

// Placeholder registration; the SavedModel/warmup inspector fills it in.
export function registerInspect(program: Command, _ctx: CommandContext): void {
  program
    .command("inspect")
    .description("Show the signatures and warmup records of a SavedModel version directory");
}
