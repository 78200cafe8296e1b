// Helpers for the emulator's tests: small SavedModel version dirs, the emulator as a real process, polling waits.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { messageType } from "../../src/proto/registry.js";
import { signatureDefObject, type SignatureToWrite } from "../../src/savedmodel/writer.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const HALF_PLUS_TWO: Record<string, SignatureToWrite> = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
  },
};

export interface VersionOptions {
  signatures?: Record<string, SignatureToWrite>;
  /** Writes a saver_def into the meta graph: the graph has variables (default true). */
  graphHasVariables?: boolean;
  /** Writes variables/variables.index (default true). */
  variables?: boolean;
  /** assets.extra/emulator.json contents. */
  behaviour?: Record<string, unknown>;
}

/** Writes `<base>/<name>` as a binary SavedModel with tags {serve}. Returns the version dir. */
export function writeVersion(base: string, name: string, options: VersionOptions = {}): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const type = messageType("tensorflow.MetaGraphDef");
  const signature_def = Object.fromEntries(
    Object.entries(options.signatures ?? HALF_PLUS_TWO).map(([k, s]) => [k, signatureDefObject(s)]),
  );
  let graph = Buffer.from(
    type.encode(type.fromObject({ meta_info_def: { tags: ["serve"] }, signature_def })).finish(),
  );
  if (options.graphHasVariables ?? true)
    graph = Buffer.concat([graph, Buffer.from([0x1a, 0x02, 0x08, 0x01])]);
  const header = Buffer.from([0x08, 0x01, 0x12]);
  const length: number[] = [];
  for (let n = graph.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  writeFileSync(join(dir, "saved_model.pb"), Buffer.concat([header, Buffer.from(length), graph]));
  if (options.variables ?? true) {
    mkdirSync(join(dir, "variables"), { recursive: true });
    writeFileSync(join(dir, "variables", "variables.index"), Buffer.alloc(0));
    writeFileSync(join(dir, "variables", "variables.data-00000-of-00001"), Buffer.alloc(0));
  }
  if (options.behaviour) {
    mkdirSync(join(dir, "assets.extra"), { recursive: true });
    writeFileSync(join(dir, "assets.extra", "emulator.json"), JSON.stringify(options.behaviour));
  }
  return dir;
}

/** Writes the version under a non-numeric name, then renames it into place (never seen half-written). */
export function publishVersion(base: string, name: string, options: VersionOptions = {}): string {
  const staging = writeVersion(base, `${name}.tmp`, options);
  const dir = join(base, name);
  renameSync(staging, dir);
  return dir;
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = "tfs-emulator-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One `config { }` entry of a ModelServerConfig text file. */
export function modelEntry(name: string, basePath: string, extra = ""): string {
  return `config { name: "${name}" base_path: "${basePath}" model_platform: "tensorflow" ${extra} }`;
}

export function configText(...entries: string[]): string {
  return `model_config_list { ${entries.join("\n")} }\n`;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface EmulatorProcess {
  child: ChildProcess;
  ports: { grpc_port: number; rest_api_port: number | null; control_port: number | null };
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Runs `node --import tsx src/emulator/main.ts ARGS`; resolves on the ports line, rejects when it exits first. */
export function spawnEmulator(args: string[]): {
  child: ChildProcess;
  ready: Promise<EmulatorProcess>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src/emulator/main.ts"), ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveExit) =>
    child.on("exit", (code) => resolveExit({ code, stdout, stderr })),
  );
  const ready = new Promise<EmulatorProcess>((resolveReady, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n") && line)
        resolveReady({
          child,
          ports: JSON.parse(line) as EmulatorProcess["ports"],
          stderr: () => stderr,
          stop: async () => {
            if (child.exitCode === null) child.kill("SIGTERM");
            return (await exited).code;
          },
        });
    });
    void exited.then(({ code }) =>
      reject(new Error(`emulator exited (${code}) before listening:\n${stderr}`)),
    );
  });
  ready.catch(() => undefined);
  return { child, ready, exited };
}
