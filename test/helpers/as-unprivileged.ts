import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NOBODY = 65534;

export interface ThrownError {
  name: string;
  message: string;
  hint?: string;
  where?: string;
}

export const runningAsRoot = process.getuid?.() === 0;

/**
 * Calls `exportName(...args)` from a project module and returns what it threw. Root ignores file permissions, so
 * as root the call runs in a child process as the unprivileged "nobody"; otherwise in this process. Fails the test
 * when the call does not throw.
 */
export async function errorFromCall(
  modulePath: string,
  exportName: string,
  args: string[],
): Promise<ThrownError> {
  const moduleUrl = pathToFileURL(join(PROJECT_ROOT, modulePath)).href;
  if (!runningAsRoot) {
    const module = (await import(moduleUrl)) as Record<string, (...a: string[]) => Promise<unknown>>;
    const caught = await module[exportName]!(...args).then(
      () => assert.fail(`${exportName} should have thrown`),
      (error: unknown) => error as ThrownError,
    );
    return { name: caught.name, message: caught.message, hint: caught.hint, where: caught.where };
  }
  const code = `const m = await import(${JSON.stringify(moduleUrl)});
try { await m[${JSON.stringify(exportName)}](...process.argv.slice(1)); console.log("null"); }
catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, hint: e.hint, where: e.where })); }`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code, ...args], {
    cwd: PROJECT_ROOT,
    uid: NOBODY,
    gid: NOBODY,
    env: { ...process.env, HOME: "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)));
  assert.equal(exitCode, 0, stderr);
  const result = JSON.parse(stdout.trim()) as ThrownError | null;
  assert.ok(result, `${exportName} as nobody should have thrown`);
  return result;
}
