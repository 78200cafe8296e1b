import type { CliIo } from "../../src/commands/io.js";

/** A terminal for `captureIo`: scripted answers to `prompt`, given in order. Without it stdin is no TTY. */
export interface ScriptedTerminal {
  answers: string[];
}

/** A CliIo that records what a command printed (and, with a terminal, the questions it asked). */
export function captureIo(
  env: NodeJS.ProcessEnv = {},
  terminal?: ScriptedTerminal,
): CliIo & { out: string; err: string; prompts: string[] } {
  const io = {
    out: "",
    err: "",
    prompts: [] as string[],
    env,
    cwd: process.cwd(),
    stdinIsTTY: terminal !== undefined,
    prompt(question: string): Promise<string> {
      io.prompts.push(question);
      const answer = terminal?.answers.shift();
      if (answer === undefined) return Promise.reject(new Error(`unexpected prompt: ${question}`));
      return Promise.resolve(answer);
    },
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
