import { UsageError } from "../errors.js";

/** One thing wrong with the daemon config: which key, where it was written, what is wrong, how to fix it. */
export interface ConfigProblem {
  /** Dotted key path such as `admission.quiet_window`; absent for file-level problems. */
  path?: string;
  /** FILE:LINE:COL, the command-line flag (`--grpc`) or the environment variable the value came from. */
  where?: string;
  message: string;
  hint?: string;
}

/**
 * Every problem found in one load, reported together (fixing one typo at a time in a config is tedious).
 * A UsageError, so a command exits 2.
 */
export class DaemonConfigError extends UsageError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const first = problems[0] ?? { message: "invalid daemon config" };
    const message =
      problems.length === 1 ? problemText(first) : `${problems.length} problems in the daemon config`;
    super(message, problems.length === 1 ? { where: first.where, hint: first.hint } : {});
    this.problems = problems;
  }

  override describe(): string {
    if (this.problems.length === 1) return super.describe();
    const lines = this.problems.map((problem) => {
      const head = problem.where ? `${problem.where}: ${problemText(problem)}` : problemText(problem);
      return problem.hint ? `- ${head}\n    hint: ${problem.hint}` : `- ${head}`;
    });
    return `${this.message}:\n${lines.join("\n")}`;
  }
}

function problemText(problem: ConfigProblem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** `["gate", "requests", 0, "name"]` → `gate.requests[0].name`; odd model names are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(segment))) text += text ? `.${String(segment)}` : String(segment);
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** A value as the user wrote it, short enough for one line. */
export function showValue(value: unknown): string {
  const text = value === undefined ? "nothing" : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
