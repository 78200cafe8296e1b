// A rollout world owned by "nobody" (uid 65534) and the daemon run as nobody: tests run as root, where file
// permissions stop nothing, so unwritable state dirs and config dirs need an unprivileged daemon.
import { spawn } from "node:child_process";
import { chmodSync, chownSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, waitFor } from "../helpers/emulator-harness.js";
import { daemonArgs, startWorld, type World } from "../helpers/rollout-world.js";

export const NOBODY = 65534;

export function chownTree(path: string): void {
  chownSync(path, NOBODY, NOBODY);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name));
}

/** Makes every file (and directory) of the tree read-only for its owner, or gives the write bit back. */
export function setWritable(path: string, writable: boolean): void {
  const isDir = statSync(path).isDirectory();
  if (isDir) for (const name of readdirSync(path)) setWritable(join(path, name), writable);
  chmodSync(path, isDir ? (writable ? 0o700 : 0o500) : writable ? 0o600 : 0o400);
}

export function spawnAsNobody(world: World) {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src/cli.ts"), ...daemonArgs(world)], {
    cwd: REPO,
    uid: NOBODY,
    gid: NOBODY,
    env: { ...process.env, HOME: "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, exited, log: () => `${out}\n${err}` };
}

export async function nobodysWorld(t: { after(fn: () => unknown): void }): Promise<World> {
  const world = await startWorld();
  t.after(() => world.cleanup());
  await waitFor("version 1 AVAILABLE", async () =>
    (await world.grpc.getModelStatus("m")).some((s) => s.version === "1" && s.state === "AVAILABLE"),
  );
  chmodSync(world.root, 0o755);
  chownTree(world.root);
  return world;
}
