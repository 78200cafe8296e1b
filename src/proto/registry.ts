import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/** Every .proto file under protos/ that the project uses; imports resolve relative to protos/. */
export const PROTO_FILES = [
  "tensorflow_serving/apis/model_service.proto",
  "tensorflow_serving/apis/prediction_service.proto",
  "tensorflow_serving/apis/prediction_log.proto",
  "tensorflow_serving/config/model_server_config.proto",
  "tensorflow/core/protobuf/saved_model.proto",
] as const;

/** Finds protos/ whether running from src/ (tsx) or dist/src/ (built). */
export function protosDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "protos");
    if (existsSync(join(candidate, "tensorflow_serving"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("protos/ directory not found next to the tfs-rollout installation");
}

let cachedRoot: protobuf.Root | undefined;

/** The protobufjs Root holding every message of protos/ (google/protobuf/* come from protobufjs itself). */
export function protoRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const base = protosDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith("google/protobuf/") ? target : resolve(base, target);
  root.loadSync(
    PROTO_FILES.map((f) => join(base, f)),
    { keepCase: true },
  );
  root.resolveAll();
  cachedRoot = root;
  return root;
}

/** A message type by its full name, e.g. "tensorflow.serving.ModelServerConfig". */
export function messageType(fullName: string): protobuf.Type {
  return protoRoot().lookupType(fullName);
}

export function enumType(fullName: string): protobuf.Enum {
  return protoRoot().lookupEnum(fullName);
}
