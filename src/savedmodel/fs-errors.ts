import { RolloutError } from "../errors.js";

/** File-system failures (EACCES, EISDIR...) as located errors; anything else is rethrown as is. */
export function unreadable(path: string, error: unknown): unknown {
  if (!(error instanceof Error) || !("code" in error)) return error;
  return new RolloutError(`cannot read ${path}: ${error.message}`, {
    where: path,
    hint: "check that it is a regular file readable by this user",
    cause: error,
  });
}
