/** Asking before a destructive command: on a terminal a person answers; without one, only `--yes` confirms. */
import { RefusedError } from "../errors.js";
import type { CliIo } from "./io.js";

/** True when confirmed. Without a terminal and without `--yes` it refuses (exit 4): nobody can be asked. */
export async function confirm(
  io: CliIo,
  question: string,
  what: string,
  yes: boolean | undefined,
): Promise<boolean> {
  if (yes === true) return true;
  if (!io.stdinIsTTY) {
    throw new RefusedError(
      `${what} needs confirmation and there is no terminal to ask; nothing was changed`,
      {
        hint: "run it on a terminal to answer the question, or add --yes once you have read the plan above",
      },
    );
  }
  const answer = await io.prompt(`${question} [y/N] `);
  return /^\s*y(es)?\s*$/i.test(answer);
}
