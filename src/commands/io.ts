import { createInterface } from "node:readline/promises";
/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  /** Machine-readable output and tables only. */
  stdout(text: string): void;
  /** Logs, warnings and errors. */
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether a person can answer a question (stdin is a terminal). */
  stdinIsTTY: boolean;
  /** Asks a question on the terminal (written to stderr, so stdout keeps the output) and returns the answer. */
  prompt(question: string): Promise<string>;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: process.stdin.isTTY === true,
    prompt: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
