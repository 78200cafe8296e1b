import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { messageType } from "../proto/registry.js";
import { encodeTfRecord } from "./tfrecord.js";

/** Serializes canonical `tensorflow.serving.PredictionLog` plain objects as TFRecords. */
export function encodeWarmupLogs(logs: Record<string, unknown>[]): Buffer {
  const type = messageType("tensorflow.serving.PredictionLog");
  return Buffer.concat(logs.map((log) => encodeTfRecord(type.encode(type.fromObject(log)).finish())));
}

/** Writes a warmup file of predict_log records, one per canonical `tensorflow.serving.PredictRequest` object. */
export function writeWarmupFile(path: string, predictRequests: Record<string, unknown>[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeWarmupLogs(predictRequests.map((request) => ({ predict_log: { request } }))));
}
