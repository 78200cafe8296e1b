/**
 * The demo's closing `tfs-rollout status MODEL`, run as its own process with the daemon's flags (the daemon has
 * stopped by then; TF Serving still runs), exactly as an operator would type it.
 */
import { startChild } from "./processes.js";
import { commandFlags, type DemoWorld } from "./world.js";

export async function finalStatus(world: DemoWorld, model: string, grpcPort: number): Promise<string> {
  const status = startChild("status", "cli", ["status", model, ...commandFlags(world, grpcPort)]);
  const code = await status.exited;
  if (code !== 0) throw new Error(`tfs-rollout status exited ${code}:\n${status.stderr()}`);
  return status.lines().join("\n");
}
