// Writes small SavedModel version directories for the admission tests (real files, tiny contents).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSavedModel } from "../../src/savedmodel/writer.js";

/** A 48-byte table footer ending in TF's table magic, preceded by a few bytes: what a real variables.index ends with. */
export const VALID_INDEX = Buffer.concat([
  Buffer.from("index-block"),
  Buffer.alloc(40),
  Buffer.from("57fb808b247547db", "hex"),
]);

export function tempDir(t: { after(fn: () => void): void }, prefix = "admission-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeSavedModelPb(dir: string, tags: string[] = ["serve"]): void {
  writeSavedModel(dir, {
    tags,
    signatures: {
      serving_default: {
        method: "tensorflow/serving/predict",
        inputs: { x: { dtype: "DT_FLOAT", shape: [-1, 1], name: "x:0" } },
        outputs: { y: { dtype: "DT_FLOAT", shape: [-1, 1], name: "y:0" } },
      },
    },
  });
}

export function writeVariables(dir: string, shards: number, options: { omit?: number[] } = {}): void {
  const variables = join(dir, "variables");
  mkdirSync(variables, { recursive: true });
  writeFileSync(join(variables, "variables.index"), VALID_INDEX);
  for (let k = 0; k < shards; k++) {
    if (options.omit?.includes(k)) continue;
    const name = `variables.data-${String(k).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}`;
    writeFileSync(join(variables, name), Buffer.from([k, 1, 2, 3]));
  }
}

/** A complete version: saved_model.pb plus `shards` data shards (0: no variables/ at all). */
export function writeCompleteVersion(dir: string, shards = 1): void {
  writeSavedModelPb(dir);
  if (shards > 0) writeVariables(dir, shards);
}
