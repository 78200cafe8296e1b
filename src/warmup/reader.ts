import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RolloutError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { unreadable } from "../savedmodel/fs-errors.js";
import { bufferSource, walkFields, WireFormatError } from "../savedmodel/proto-wire.js";
import { readTfRecords, TfRecordError } from "./tfrecord.js";

export const WARMUP_FILE = join("assets.extra", "tf_serving_warmup_requests");
/** TF Serving's kMaxNumRecords. */
export const MAX_WARMUP_RECORDS = 1000;

/** PredictionLog oneof `log_type` members by field number, plus "none" (no log type: TF skips the record). */
const LOG_KINDS: Record<number, WarmupKind> = {
  2: "classify",
  3: "regress",
  4: "multi_inference",
  5: "session_run",
  6: "predict",
  7: "predict_streamed",
};
export type WarmupKind =
  "predict" | "classify" | "regress" | "multi_inference" | "predict_streamed" | "session_run" | "none";

export interface WarmupSummary {
  file: string;
  /** Records read (at most MAX_WARMUP_RECORDS). */
  records: number;
  predict: number;
  kinds: Record<WarmupKind, number>;
  /** predict_log requests as canonical `tensorflow.serving.PredictRequest` plain objects, in file order. */
  predictRequests: Record<string, unknown>[];
  /** Bytes remain after MAX_WARMUP_RECORDS records: TF Serving fails such a load. */
  moreThanMax: boolean;
  /** What TF Serving would fail the load with, in its wording (empty when warmup would pass framing checks). */
  problems: string[];
}

/** Reads and decodes a warmup file; a corrupt one is a RolloutError naming record index and byte offset. */
export function readWarmupFile(path: string): WarmupSummary {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  let framed: ReturnType<typeof readTfRecords>;
  try {
    framed = readTfRecords(buffer, MAX_WARMUP_RECORDS);
  } catch (error) {
    if (error instanceof TfRecordError) {
      throw new RolloutError(
        `${error.message} in warmup record ${error.index} at byte offset ${error.offset}. ` +
          "Please verify your warmup data is in TFRecord format.",
        {
          where: `${path}@${error.offset}`,
          hint: "regenerate the warmup file (uncompressed TFRecord of tensorflow.serving.PredictionLog)",
          cause: error,
        },
      );
    }
    throw error;
  }
  const kinds: Record<WarmupKind, number> = {
    predict: 0,
    classify: 0,
    regress: 0,
    multi_inference: 0,
    predict_streamed: 0,
    session_run: 0,
    none: 0,
  };
  const predictRequests: Record<string, unknown>[] = [];
  const logType = messageType("tensorflow.serving.PredictionLog");
  for (const record of framed.records) {
    const where = `${path}@${record.offset}`;
    let kind: WarmupKind;
    let decoded: Record<string, unknown>;
    try {
      kind = logKind(record.data);
      decoded = logType.toObject(logType.decode(record.data), { longs: String, enums: String });
    } catch (error) {
      throw new RolloutError(
        `Failed to parse warmup record: record ${record.index} at byte offset ${record.offset} is not a ` +
          `tensorflow.serving.PredictionLog (${(error as Error).message}) from ${path}`,
        { where, hint: "each record must be a serialized tensorflow.serving.PredictionLog", cause: error },
      );
    }
    kinds[kind]++;
    if (kind === "predict") {
      const log = (decoded.predict_log as Record<string, unknown> | undefined) ?? {};
      predictRequests.push((log.request as Record<string, unknown> | undefined) ?? {});
    }
  }
  const problems: string[] = [];
  if (framed.more) {
    problems.push(`Number of warmup records exceeds the maximum (${MAX_WARMUP_RECORDS}) at ${path}`);
  }
  if (kinds.session_run > 0)
    problems.push(`Unsupported log_type for warmup: 5 (${kinds.session_run} record(s))`);
  if (kinds.predict_streamed > 0) {
    problems.push(`Unsupported log_type for warmup: 7 (${kinds.predict_streamed} record(s))`);
  }
  return {
    file: path,
    records: framed.records.length,
    predict: kinds.predict,
    kinds,
    predictRequests,
    moreThanMax: framed.more,
    problems,
  };
}

/** The set oneof member of a PredictionLog, read from the wire (the last one wins, as protobuf does). */
function logKind(data: Buffer): WarmupKind {
  let kind: WarmupKind = "none";
  try {
    for (const field of walkFields(bufferSource(data))) {
      const named = LOG_KINDS[field.field];
      if (named && field.wireType === 2) kind = named;
    }
  } catch (error) {
    if (error instanceof WireFormatError) throw new Error(`${error.message} at record byte ${error.offset}`);
    throw error;
  }
  return kind;
}
