import type { Command } from "commander";
import type { CommandContext } from "../program.js";

// Placeholder registration; the models.config codec fills it in.
export function registerConfig(program: Command, _ctx: CommandContext): void {
  program.command("config").description("Check or print a TF Serving models.config file");
}
