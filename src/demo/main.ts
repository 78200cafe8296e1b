/**
 * `npm run demo`: a live rollout and rollback against the TF Serving emulator, in a temp dir, in under a minute.
 * Exit 0 when every expected outcome happened; 1 with the failing phase otherwise; 130 on Ctrl-C. Whatever happens,
 * every process it started is stopped and the temp dir removed (`--keep` keeps the dir and prints its path).
 */
import { rmSync } from "node:fs";
import { DemoFailure, runDemo, type DemoResources } from "./scenario.js";

const USAGE = "usage: npm run demo [-- --keep]";

async function cleanup(res: DemoResources, keep: boolean): Promise<void> {
  await res.traffic?.stop().catch(() => undefined);
  res.client?.close();
  await Promise.all([res.daemon?.stop(), res.emulator?.stop()]);
  if (!res.world) return;
  if (keep) process.stderr.write(`kept the demo's files in ${res.world.root} (remove it when done)\n`);
  else rmSync(res.world.root, { recursive: true, force: true });
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== "--keep");
  if (unknown.length > 0) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const keep = argv.includes("--keep");
  const res: DemoResources = {};
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    process.stderr.write(`\ndemo: ${signal}: stopping the daemon and the emulator, removing the temp dir\n`);
    void cleanup(res, keep).finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await runDemo({ phaseTimeoutMs: 20_000, copyPauseMs: 700, print }, res);
    print("\ndemo: every expected outcome happened");
    return 0;
  } catch (error) {
    if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    const message =
      error instanceof DemoFailure ? error.message : `unexpected error: ${(error as Error).stack}`;
    process.stderr.write(`\ndemo FAILED: ${message}\n`);
    const daemonLog = res.daemon?.lines().slice(-15) ?? [];
    if (daemonLog.length) process.stderr.write(`last daemon log lines:\n${daemonLog.join("\n")}\n`);
    for (const child of [res.daemon, res.emulator])
      if (child?.stderr()) process.stderr.write(`${child.name} stderr:\n${child.stderr()}\n`);
    return 1;
  } finally {
    if (!interrupted) await cleanup(res, keep);
  }
}

process.exitCode = await main(process.argv.slice(2));
