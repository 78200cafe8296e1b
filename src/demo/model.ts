/**
 * The demo's model: a real-looking `half_plus_two` (TF Serving's own test model: serving_default takes x, float
 * [-1], and answers y = 0.5 * x + 2, which is also what the emulator computes by default). Versions are real
 * SavedModels written with the project's writer, published the three ways the demo shows.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeSavedModel, type SignatureToWrite } from "../savedmodel/writer.js";

export const MODEL = "half_plus_two";

export const HALF_PLUS_TWO: Record<string, SignatureToWrite> = {
  serving_default: {
    method: "tensorflow/serving/predict",
    inputs: { x: { dtype: "DT_FLOAT", shape: [-1], name: "x:0" } },
    outputs: { y: { dtype: "DT_FLOAT", shape: [-1], name: "y:0" } },
  },
};

/** What half_plus_two answers for x. */
export const halfPlusTwo = (x: number): number => 0.5 * x + 2;

/** Emulator-only behaviour (assets.extra/emulator.json, never read by the daemon): every output is NaN. */
export const NAN_OUTPUTS = { nan_outputs: true };

/** Writes a complete version directory at `dir`. */
export function writeVersion(dir: string, behaviour?: Record<string, unknown>): void {
  writeSavedModel(dir, { signatures: HALF_PLUS_TWO, withVariables: true });
  if (behaviour) {
    mkdirSync(join(dir, "assets.extra"), { recursive: true });
    writeFileSync(join(dir, "assets.extra", "emulator.json"), `${JSON.stringify(behaviour)}\n`);
  }
}

/** The right way to publish: write under a name TF Serving ignores (`2.tmp`), then rename it into place. */
export function publishAtomically(
  base: string,
  version: string,
  behaviour?: Record<string, unknown>,
): string {
  const staging = join(base, `${version}.tmp`);
  writeVersion(staging, behaviour);
  const dir = join(base, version);
  renameSync(staging, dir);
  return dir;
}

/**
 * A slow copy straight into `<base>/<version>`, as a plain `cp -r` over a slow link would do it: file by file, each
 * file in two halves, with `pauseMs` between writes (longer than the quiet window, so only the completeness check
 * holds the version back). saved_model.pb comes last, so every intermediate state is visibly incomplete.
 * `onWrite` is told each file as it lands.
 */
export async function copySlowly(
  source: string,
  base: string,
  version: string,
  pauseMs: number,
  onWrite: (file: string) => void = () => undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<string> {
  const target = join(base, version);
  const files = [
    join("variables", "variables.data-00000-of-00001"),
    join("variables", "variables.index"),
    "saved_model.pb",
  ];
  for (const [index, file] of files.entries()) {
    if (index > 0) await sleep(pauseMs);
    const bytes = readFileSync(join(source, file));
    const path = join(target, file);
    mkdirSync(dirname(path), { recursive: true });
    const half = Math.ceil(bytes.length / 2);
    const fd = openSync(path, "w");
    try {
      writeSync(fd, bytes, 0, half);
      await sleep(pauseMs);
      writeSync(fd, bytes, half, bytes.length - half);
    } finally {
      closeSync(fd);
    }
    onWrite(file);
  }
  return target;
}
