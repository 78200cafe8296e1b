// `npm run emulator -- <flags>`: a stand-in for tensorflow_model_server 2.20 (see flags.ts for the flags).
// Once every initial model has loaded and the ports listen, prints ONE JSON line on stdout:
//   {"grpc_port": N, "rest_api_port": N|null, "control_port": N|null}
// REST and the control port are off unless their flag is given (0 = a free port). Logs go to stderr.
import { startEmulator, StartupError, type EmulatorLog, type RunningEmulator } from "./emulator.js";
import { FlagError, parseFlags } from "./flags.js";

const log: EmulatorLog = {
  info: (message) => process.stderr.write(`I emulator] ${message}\n`),
  warn: (message) => process.stderr.write(`W emulator] ${message}\n`),
  error: (message) => process.stderr.write(`E emulator] ${message}\n`),
};

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exit(2);
  }
  let running: RunningEmulator;
  try {
    running = await startEmulator(flags, log);
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(255); // TF Serving returns -1
  }
  process.stdout.write(`${JSON.stringify(running.ports)}\n`);
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    // An in-flight load (e.g. a long emulator.json load delay) may not stop promptly; do not wait for ever.
    const grace = setTimeout(() => process.exit(0), 3000);
    grace.unref();
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

await main();
