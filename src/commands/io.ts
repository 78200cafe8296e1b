/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  /** Machine-readable output and tables only. */
  stdout(text: string): void;
  /** Logs, warnings and errors. */
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  };
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
