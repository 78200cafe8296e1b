/** Exit codes shared by every command (documented in the README). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  refused: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Base of every error the product reports to a person: what went wrong (message), where (file:line:col,
 * address, path), and how to fix it (hint). The exit code is decided by the class.
 */
export class RolloutError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failed;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { where?: string; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.where = options.where;
    this.hint = options.hint;
  }

  /** One-line-per-part text for stderr: "WHERE: MESSAGE" then "hint: ...". */
  describe(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** Bad command line or bad input the user gave directly. */
export class UsageError extends RolloutError {
  override readonly exitCode = ExitCode.usage;
}

/** TF Serving could not be reached at all (connection refused, DNS, deadline on connect). */
export class UnreachableError extends RolloutError {
  override readonly exitCode = ExitCode.unreachable;
}

/** A command refused to act because acting could lose data or take down serving. */
export class RefusedError extends RolloutError {
  override readonly exitCode = ExitCode.refused;
}

export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof RolloutError ? error.exitCode : ExitCode.failed;
}

export function describeError(error: unknown): string {
  if (error instanceof RolloutError) return error.describe();
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
