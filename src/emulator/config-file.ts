// Reading --model_config_file as TF Serving does (facts §1): protobuf text format, TF's status wording.
import { readFile } from "node:fs/promises";
import type { ModelServerConfigObject } from "../modelconfig/validate.js";
import { messageType } from "../proto/registry.js";
import { parseTextFormat, TextFormatError } from "../textformat/parse.js";
import { ServingError } from "./serving-api.js";

/** Parses the file; a syntax error logs protobuf's own line and fails with `Invalid protobuf file: '<path>'`. */
export async function readModelConfigFile(
  path: string,
  log: { error(message: string): void },
): Promise<ModelServerConfigObject> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServingError(
      code === "ENOENT" ? "NOT_FOUND" : "UNKNOWN",
      `${path}; ${code === "ENOENT" ? "No such file or directory" : (error as Error).message}`,
    );
  }
  try {
    return parseTextFormat(
      text,
      messageType("tensorflow.serving.ModelServerConfig"),
      path,
    ) as ModelServerConfigObject;
  } catch (error) {
    if (!(error instanceof TextFormatError)) throw error;
    log.error(
      `Error parsing text-format tensorflow.serving.ModelServerConfig: ${error.line}:${error.column}: ${error.reason}`,
    );
    throw new ServingError("INVALID_ARGUMENT", `Invalid protobuf file: '${path}'`);
  }
}
