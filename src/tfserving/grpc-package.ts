import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import { protosDir } from "../proto/registry.js";

/**
 * proto-loader options that make gRPC messages match the project's canonical plain-object form
 * (snake_case, int64 as decimal strings, enums as names, unset fields absent, no virtual oneof fields).
 */
export const CANONICAL_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: false,
};

export const SERVICE_PROTOS = [
  "tensorflow_serving/apis/model_service.proto",
  "tensorflow_serving/apis/prediction_service.proto",
] as const;

export interface TfServingServices {
  ModelService: grpc.ServiceClientConstructor;
  PredictionService: grpc.ServiceClientConstructor;
}

let cached: { definition: protoLoader.PackageDefinition; services: TfServingServices } | undefined;

function load(): NonNullable<typeof cached> {
  if (cached) return cached;
  const dir = protosDir();
  const definition = protoLoader.loadSync(
    SERVICE_PROTOS.map((f) => join(dir, f)),
    { ...CANONICAL_LOADER_OPTIONS, includeDirs: [dir] },
  );
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    tensorflow: { serving: TfServingServices };
  };
  cached = { definition, services: pkg.tensorflow.serving };
  return cached;
}

/** The proto-loader definition of ModelService and PredictionService (method paths, serializers). */
export function tfServingPackageDefinition(): protoLoader.PackageDefinition {
  return load().definition;
}

/** Client constructors (and, via `.service`, the service definitions a server needs). */
export function tfServingServices(): TfServingServices {
  return load().services;
}
