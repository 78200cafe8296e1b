// The emulator's gRPC front end: ModelService and PredictionService on the real protos, answering like TF Serving
// (non-OK results are a gRPC status with no body; messages over 1024 chars cut with "...TRUNCATED").
import * as grpc from "@grpc/grpc-js";
import type { ModelServerConfigObject } from "../modelconfig/validate.js";
import { messageType } from "../proto/registry.js";
import { SIGNATURE_DEF_MAP_TYPE_URL } from "../tfserving/grpc-client.js";
import { tfServingServices } from "../tfserving/grpc-package.js";
import type { CallLog } from "./call-log.js";
import type { Faults } from "./faults.js";
import type { ServerCore } from "./server-core.js";
import {
  ServingError,
  type CallRecord,
  type ModelSpecPlain,
  type PredictRequestPlain,
} from "./serving-api.js";

type Plain = Record<string, unknown>;

export interface GrpcFrontEnd {
  core: ServerCore;
  faults?: Faults;
  callLog?: CallLog;
}

const MAX_STATUS_MESSAGE = 1024;
const TRUNCATED = "...TRUNCATED";

/** grpc_status_util.cc: long messages are cut so the whole status fits in 1024 chars. */
export function statusMessage(message: string): string {
  return message.length > MAX_STATUS_MESSAGE
    ? message.slice(0, MAX_STATUS_MESSAGE - TRUNCATED.length) + TRUNCATED
    : message;
}

function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  const serving =
    error instanceof ServingError
      ? error
      : new ServingError("INTERNAL", (error as Error)?.message ?? String(error));
  const code = (grpc.status as unknown as Record<string, number>)[serving.code] ?? grpc.status.UNKNOWN;
  return { code, details: statusMessage(serving.message) };
}

function specFields(spec: ModelSpecPlain | undefined): Pick<CallRecord, "model" | "version" | "label"> {
  return {
    model: spec?.name,
    version: spec?.version ? BigInt(spec.version.value ?? "0").toString() : undefined,
    label: spec?.version_label,
  };
}

const RELOAD_UNSUPPORTED =
  "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported";

export function tfServingHandlers(front: GrpcFrontEnd): {
  ModelService: grpc.UntypedServiceImplementation;
  PredictionService: grpc.UntypedServiceImplementation;
} {
  const { core, faults, callLog } = front;

  function unary(
    method: string,
    describe: (request: Plain) => Omit<CallRecord, "at" | "transport" | "method" | "code">,
    body: (request: Plain) => Promise<Plain> | Plain,
  ): grpc.handleUnaryCall<Plain, Plain> {
    return async (call, callback) => {
      const request = call.request;
      let code = "OK";
      try {
        faults?.assertAvailable("grpc");
        const reply = await body(request);
        callback(null, reply);
      } catch (error) {
        const status = toServiceError(error);
        code = error instanceof ServingError ? error.code : "INTERNAL";
        callback(status);
      } finally {
        callLog?.record({ transport: "grpc", method, ...describe(request), code });
      }
    };
  }

  const bySpec = (request: Plain) => specFields(request.model_spec as ModelSpecPlain | undefined);

  return {
    ModelService: {
      GetModelStatus: unary("GetModelStatus", bySpec, (request) => {
        const spec = request.model_spec as ModelSpecPlain | undefined;
        if (!spec) throw new ServingError("INVALID_ARGUMENT", "Missing ModelSpec");
        const version = spec.version ? BigInt(spec.version.value ?? "0").toString() : undefined;
        return { model_version_status: core.modelStatus(spec.name ?? "", version) };
      }),
      HandleReloadConfigRequest: unary(
        "HandleReloadConfigRequest",
        (request) => ({ config: request.config }),
        async (request) => {
          const config = (request.config ?? {}) as ModelServerConfigObject;
          if (config.model_config_list === undefined)
            throw new ServingError("INVALID_ARGUMENT", RELOAD_UNSUPPORTED);
          await core.reloadConfig(config, { beforeApply: async () => faults?.applyNextReload() });
          return { status: { error_code: "OK" } };
        },
      ),
    },
    PredictionService: {
      Predict: unary("Predict", bySpec, async (request) => {
        if (!request.model_spec) throw new ServingError("INVALID_ARGUMENT", "Missing ModelSpec");
        return (await core.predict(request as unknown as PredictRequestPlain)) as unknown as Plain;
      }),
      GetModelMetadata: unary("GetModelMetadata", bySpec, (request) => {
        const spec = request.model_spec as ModelSpecPlain | undefined;
        if (!spec) throw new ServingError("INVALID_ARGUMENT", "Missing ModelSpec");
        const fields = (request.metadata_field as string[] | undefined) ?? [];
        if (fields.length === 0)
          throw new ServingError(
            "INVALID_ARGUMENT",
            "GetModelMetadataRequest must specify at least one metadata_field",
          );
        for (const field of fields)
          if (field !== "signature_def")
            throw new ServingError("INVALID_ARGUMENT", `Metadata field ${field} is not supported`);
        const { model_spec, signature_def } = core.modelMetadata(spec);
        const mapType = messageType("tensorflow.serving.SignatureDefMap");
        const value = Buffer.from(mapType.encode(mapType.fromObject({ signature_def })).finish());
        return { model_spec, metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value } } };
      }),
      Classify: unimplemented("Classify", faults, callLog),
      Regress: unimplemented("Regress", faults, callLog),
      MultiInference: unimplemented("MultiInference", faults, callLog),
    },
  };
}

function unimplemented(
  method: string,
  faults?: Faults,
  callLog?: CallLog,
): grpc.handleUnaryCall<Plain, Plain> {
  return (call, callback) => {
    const unavailable = faults?.unavailableError("grpc");
    const error =
      unavailable ?? new ServingError("UNIMPLEMENTED", `${method} is not implemented by the emulator`);
    callLog?.record({
      transport: "grpc",
      method,
      ...specFields(call.request.model_spec as ModelSpecPlain),
      code: error.code,
    });
    callback(toServiceError(error));
  };
}

/** Serves both services on host:`port` (0 picks a free port). */
export async function startGrpcServer(
  front: GrpcFrontEnd,
  port: number,
  host = "127.0.0.1",
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 2 ** 31 - 1,
    "grpc.max_send_message_length": 2 ** 31 - 1,
  });
  const services = tfServingServices();
  const handlers = tfServingHandlers(front);
  server.addService(services.ModelService.service, handlers.ModelService);
  server.addService(services.PredictionService.service, handlers.PredictionService);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port: bound };
}
