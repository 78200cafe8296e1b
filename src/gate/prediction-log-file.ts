// TFRecord files of tensorflow.serving.PredictionLog (golden request files): each predict_log's request as a
// PreparedRequest and, when the log carries one, its response outputs as the expected tensors.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { RolloutError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { unreadable } from "../savedmodel/fs-errors.js";
import { decodeTensor, type TensorProtoObject } from "../tensor/codec.js";
import { readTfRecords, TfRecordError } from "../warmup/tfrecord.js";
import { batchOf, type PreparedRequest, type PreparedTensor } from "./prepared-request.js";
import type { TensorLike } from "./summary.js";

type Plain = Record<string, unknown>;

export interface LoggedPredict {
  request: PreparedRequest;
  /** The logged response's outputs; absent when the log has no response. */
  expected?: Record<string, TensorLike>;
}

/** A canonical PredictRequest plain object as the gate sends it (model_spec's name/version are ignored). */
export function preparedFromPredictRequest(request: Plain, label: string, where: string): PreparedRequest {
  const spec = (request.model_spec as Plain | undefined) ?? {};
  const inputs: Record<string, PreparedTensor> = {};
  for (const [alias, proto] of Object.entries((request.inputs as Record<string, TensorProtoObject>) ?? {}))
    inputs[alias] = decodeTensor(proto, `${where} input "${alias}"`);
  const signature =
    typeof spec.signature_name === "string" && spec.signature_name !== ""
      ? spec.signature_name
      : "serving_default";
  return { label, signature, inputs, batch: batchOf(inputs) };
}

export function readPredictionLogs(path: string, maxRecords = 1000): LoggedPredict[] {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  let records: ReturnType<typeof readTfRecords>["records"];
  try {
    records = readTfRecords(buffer, maxRecords).records;
  } catch (error) {
    if (!(error instanceof TfRecordError)) throw error;
    throw new RolloutError(`${error.message} in record ${error.index} at byte offset ${error.offset}`, {
      where: `${path}@${error.offset}`,
      hint: "golden files are uncompressed TFRecords of tensorflow.serving.PredictionLog (or *.json requests)",
      cause: error,
    });
  }
  const type = messageType("tensorflow.serving.PredictionLog");
  const logged: LoggedPredict[] = [];
  for (const record of records) {
    const where = `${path}@${record.offset}`;
    let log: Plain;
    try {
      log = type.toObject(type.decode(record.data), { longs: String, enums: String }) as Plain;
    } catch (error) {
      throw new RolloutError(
        `record ${record.index} is not a tensorflow.serving.PredictionLog: ${(error as Error).message}`,
        {
          where,
          hint: "each record must be a serialized tensorflow.serving.PredictionLog",
          cause: error,
        },
      );
    }
    const predict = log.predict_log as Plain | undefined;
    if (predict === undefined) continue;
    const label = `${basename(path)} #${record.index + 1}`;
    const entry: LoggedPredict = {
      request: preparedFromPredictRequest((predict.request as Plain | undefined) ?? {}, label, where),
    };
    const outputs = (predict.response as Plain | undefined)?.outputs as
      Record<string, TensorProtoObject> | undefined;
    if (outputs && Object.keys(outputs).length > 0)
      entry.expected = Object.fromEntries(
        Object.entries(outputs).map(([alias, proto]) => [
          alias,
          decodeTensor(proto, `${where} output "${alias}"`),
        ]),
      );
    logged.push(entry);
  }
  if (logged.length === 0)
    throw new RolloutError(`no predict_log records in ${path}`, {
      where: path,
      hint: "write PredictionLog records with predict_log {request, response}",
    });
  return logged;
}
