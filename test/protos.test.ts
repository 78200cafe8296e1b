/**
 * Conformance of protos/ with the facts sheet (/work/shared/tfserving-facts.md): the field numbers, types and
 * enum values below are copied from it. Checked twice: against what protoc compiles from protos/ (a descriptor
 * set) and against the protobufjs registry the product uses. Each message's field set must match exactly, so a
 * field left out on purpose (the protos are trimmed, see their headers) is left out of the table with a note.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import protobuf from "protobufjs";
import { messageType, protoRoot, protosDir } from "../src/proto/registry.js";
import { tfServingPackageDefinition } from "../src/tfserving/grpc-package.js";
import { FIXTURES_DIR, fixturesSkip, TFSERVING_TESTDATA, toolSkip } from "./helpers/fixtures.js";

/** field name → "<number> [repeated |optional ]<type>[ oneof <name>]", types fully qualified without a dot. */
type MessageTable = Record<string, Record<string, string>>;

const MESSAGES: MessageTable = {
  // §1 the model config file
  "tensorflow.serving.ModelServerConfig": {
    model_config_list: "1 tensorflow.serving.ModelConfigList oneof config",
    custom_model_config: "2 google.protobuf.Any oneof config",
  },
  "tensorflow.serving.ModelConfigList": { config: "1 repeated tensorflow.serving.ModelConfig" },
  "tensorflow.serving.ModelConfig": {
    name: "1 string",
    base_path: "2 string",
    model_type: "3 tensorflow.serving.ModelType",
    model_platform: "4 string",
    logging_config: "6 tensorflow.serving.LoggingConfig",
    model_version_policy: "7 tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy",
    version_labels: "8 map<string,int64>",
  },
  "tensorflow.serving.FileSystemStoragePathSourceConfig": {
    servables: "5 repeated tensorflow.serving.FileSystemStoragePathSourceConfig.ServableToMonitor",
    file_system_poll_wait_seconds: "3 int64",
    fail_if_zero_versions_at_startup: "4 bool",
    servable_versions_always_present: "6 bool",
  },
  "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableToMonitor": {
    servable_name: "1 string",
    base_path: "2 string",
    servable_version_policy: "4 tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy",
  },
  "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy": {
    latest:
      "100 tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest oneof policy_choice",
    all: "101 tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All oneof policy_choice",
    specific:
      "102 tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific oneof policy_choice",
  },
  "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest": {
    num_versions: "1 uint32",
  },
  "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All": {},
  "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific": {
    versions: "1 repeated int64",
  },
  "tensorflow.serving.LoggingConfig": {
    log_collector_config: "1 tensorflow.serving.LogCollectorConfig",
    sampling_config: "2 tensorflow.serving.SamplingConfig",
    custom_logging_config: "3 google.protobuf.Any",
  },
  "tensorflow.serving.LogCollectorConfig": { type: "1 string", filename_prefix: "2 string" },
  "tensorflow.serving.SamplingConfig": {
    sampling_rate: "1 double",
    attributes: "2 int32",
    per_task_sampling_configs: "3 repeated tensorflow.serving.SamplingConfig.PerTaskSamplingConfig",
  },
  "tensorflow.serving.SamplingConfig.PerTaskSamplingConfig": {
    dc: "1 string",
    task_index: "2 optional int32",
    sampling_rate: "3 double",
  },

  // §2 gRPC messages
  "google.protobuf.Any": { type_url: "1 string", value: "2 bytes" },
  "google.protobuf.Int64Value": { value: "1 int64" },
  "tensorflow.serving.ModelSpec": {
    name: "1 string",
    version: "2 google.protobuf.Int64Value oneof version_choice",
    version_label: "4 string oneof version_choice",
    signature_name: "3 string",
  },
  "tensorflow.serving.GetModelStatusRequest": { model_spec: "1 tensorflow.serving.ModelSpec" },
  "tensorflow.serving.GetModelStatusResponse": {
    model_version_status: "1 repeated tensorflow.serving.ModelVersionStatus",
  },
  "tensorflow.serving.ModelVersionStatus": {
    version: "1 int64",
    state: "2 tensorflow.serving.ModelVersionStatus.State",
    status: "3 tensorflow.serving.StatusProto",
  },
  "tensorflow.serving.StatusProto": { error_code: "1 tensorflow.error.Code", error_message: "2 string" },
  "tensorflow.serving.ReloadConfigRequest": {
    config: "1 tensorflow.serving.ModelServerConfig",
    metric_names: "2 repeated string",
  },
  "tensorflow.serving.ReloadConfigResponse": {
    status: "1 tensorflow.serving.StatusProto",
    metric: "2 repeated tensorflow.serving.Metric",
  },
  "tensorflow.serving.Metric": { name: "1 string", int64_value_increase: "2 int64 oneof value_increase" },
  // predict_streamed_options (5) and request_options (7) are trimmed ("new; can be ignored").
  "tensorflow.serving.PredictRequest": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    inputs: "2 map<string,tensorflow.TensorProto>",
    output_filter: "3 repeated string",
    client_id: "6 optional bytes",
  },
  "tensorflow.serving.PredictResponse": {
    outputs: "1 map<string,tensorflow.TensorProto>",
    model_spec: "2 tensorflow.serving.ModelSpec",
  },
  "tensorflow.serving.GetModelMetadataRequest": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    metadata_field: "2 repeated string",
  },
  "tensorflow.serving.GetModelMetadataResponse": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    metadata: "2 map<string,google.protobuf.Any>",
  },
  "tensorflow.serving.SignatureDefMap": { signature_def: "1 map<string,tensorflow.SignatureDef>" },
  "tensorflow.serving.ClassificationRequest": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    input: "2 tensorflow.serving.Input",
  },
  "tensorflow.serving.ClassificationResponse": {
    result: "1 tensorflow.serving.ClassificationResult",
    model_spec: "2 tensorflow.serving.ModelSpec",
  },
  "tensorflow.serving.ClassificationResult": {
    classifications: "1 repeated tensorflow.serving.Classifications",
  },
  "tensorflow.serving.Classifications": { classes: "1 repeated tensorflow.serving.Class" },
  "tensorflow.serving.Class": { label: "1 string", score: "2 float" },
  "tensorflow.serving.RegressionRequest": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    input: "2 tensorflow.serving.Input",
  },
  "tensorflow.serving.RegressionResponse": {
    result: "1 tensorflow.serving.RegressionResult",
    model_spec: "2 tensorflow.serving.ModelSpec",
  },
  "tensorflow.serving.RegressionResult": { regressions: "1 repeated tensorflow.serving.Regression" },
  "tensorflow.serving.Regression": { value: "1 float" },
  "tensorflow.serving.Input": {
    example_list: "1 tensorflow.serving.ExampleList oneof kind",
    example_list_with_context: "2 tensorflow.serving.ExampleListWithContext oneof kind",
  },
  "tensorflow.serving.ExampleList": { examples: "1 repeated tensorflow.Example" },
  "tensorflow.serving.ExampleListWithContext": {
    examples: "1 repeated tensorflow.Example",
    context: "2 tensorflow.Example",
  },
  "tensorflow.Example": { features: "1 tensorflow.Features" },
  "tensorflow.Features": { feature: "1 map<string,tensorflow.Feature>" },
  "tensorflow.Feature": {
    bytes_list: "1 tensorflow.BytesList oneof kind",
    float_list: "2 tensorflow.FloatList oneof kind",
    int64_list: "3 tensorflow.Int64List oneof kind",
  },
  "tensorflow.BytesList": { value: "1 repeated bytes" },
  "tensorflow.FloatList": { value: "1 repeated float" },
  "tensorflow.Int64List": { value: "1 repeated int64" },
  "tensorflow.serving.MultiInferenceRequest": {
    tasks: "1 repeated tensorflow.serving.InferenceTask",
    input: "2 tensorflow.serving.Input",
  },
  "tensorflow.serving.InferenceTask": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    method_name: "2 string",
  },
  "tensorflow.serving.MultiInferenceResponse": { results: "1 repeated tensorflow.serving.InferenceResult" },
  "tensorflow.serving.InferenceResult": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    classification_result: "2 tensorflow.serving.ClassificationResult oneof result",
    regression_result: "3 tensorflow.serving.RegressionResult oneof result",
  },
  // resource_handle_val (14) and variant_val (15) are trimmed (they would pull in resource_handle.proto).
  "tensorflow.TensorProto": {
    dtype: "1 tensorflow.DataType",
    tensor_shape: "2 tensorflow.TensorShapeProto",
    version_number: "3 int32",
    tensor_content: "4 bytes",
    float_val: "5 repeated float",
    double_val: "6 repeated double",
    int_val: "7 repeated int32",
    string_val: "8 repeated bytes",
    scomplex_val: "9 repeated float",
    int64_val: "10 repeated int64",
    bool_val: "11 repeated bool",
    dcomplex_val: "12 repeated double",
    half_val: "13 repeated int32",
    uint32_val: "16 repeated uint32",
    uint64_val: "17 repeated uint64",
    float8_val: "18 bytes",
  },
  "tensorflow.TensorShapeProto": {
    dim: "2 repeated tensorflow.TensorShapeProto.Dim",
    unknown_rank: "3 bool",
  },
  "tensorflow.TensorShapeProto.Dim": { size: "1 int64", name: "2 string" },
  "tensorflow.SerializedDType": { datatype: "1 tensorflow.DataType" },

  // §6 PredictionLog (session_run_log = 5 is trimmed: it would pull in session_service.proto)
  "tensorflow.serving.PredictionLog": {
    log_metadata: "1 tensorflow.serving.LogMetadata",
    classify_log: "2 tensorflow.serving.ClassifyLog oneof log_type",
    regress_log: "3 tensorflow.serving.RegressLog oneof log_type",
    multi_inference_log: "4 tensorflow.serving.MultiInferenceLog oneof log_type",
    predict_log: "6 tensorflow.serving.PredictLog oneof log_type",
    predict_streamed_log: "7 tensorflow.serving.PredictStreamedLog oneof log_type",
  },
  "tensorflow.serving.ClassifyLog": {
    request: "1 tensorflow.serving.ClassificationRequest",
    response: "2 tensorflow.serving.ClassificationResponse",
  },
  "tensorflow.serving.RegressLog": {
    request: "1 tensorflow.serving.RegressionRequest",
    response: "2 tensorflow.serving.RegressionResponse",
  },
  "tensorflow.serving.PredictLog": {
    request: "1 tensorflow.serving.PredictRequest",
    response: "2 tensorflow.serving.PredictResponse",
  },
  "tensorflow.serving.MultiInferenceLog": {
    request: "1 tensorflow.serving.MultiInferenceRequest",
    response: "2 tensorflow.serving.MultiInferenceResponse",
  },
  "tensorflow.serving.PredictStreamedLog": {
    request: "1 repeated tensorflow.serving.PredictRequest",
    response: "2 repeated tensorflow.serving.PredictResponse",
  },
  // safe_aggregation_privacy_key (8) is trimmed: the facts sheet gives no type for it.
  "tensorflow.serving.LogMetadata": {
    model_spec: "1 tensorflow.serving.ModelSpec",
    sampling_config: "2 tensorflow.serving.SamplingConfig",
    saved_model_tags: "3 repeated string",
    timestamp_secs: "4 int64",
    dc: "5 string",
    request_origin: "6 string",
    request_criticality: "7 string",
  },

  // §7 SavedModel (MetaGraphDef keeps only 1 and 5; MetaInfoDef drops stripped_op_list 2 and any_info 3)
  "tensorflow.SavedModel": {
    saved_model_schema_version: "1 int64",
    meta_graphs: "2 repeated tensorflow.MetaGraphDef",
  },
  "tensorflow.MetaGraphDef": {
    meta_info_def: "1 tensorflow.MetaGraphDef.MetaInfoDef",
    signature_def: "5 map<string,tensorflow.SignatureDef>",
  },
  "tensorflow.MetaGraphDef.MetaInfoDef": {
    meta_graph_version: "1 string",
    tags: "4 repeated string",
    tensorflow_version: "5 string",
    tensorflow_git_version: "6 string",
    stripped_default_attrs: "7 bool",
    function_aliases: "8 map<string,string>",
  },
  "tensorflow.SignatureDef": {
    inputs: "1 map<string,tensorflow.TensorInfo>",
    outputs: "2 map<string,tensorflow.TensorInfo>",
    method_name: "3 string",
    defaults: "4 map<string,tensorflow.TensorProto>",
  },
  "tensorflow.TensorInfo": {
    name: "1 string oneof encoding",
    coo_sparse: "4 tensorflow.TensorInfo.CooSparse oneof encoding",
    composite_tensor: "5 tensorflow.TensorInfo.CompositeTensor oneof encoding",
    dtype: "2 tensorflow.DataType",
    tensor_shape: "3 tensorflow.TensorShapeProto",
  },
  "tensorflow.TensorInfo.CooSparse": {
    values_tensor_name: "1 string",
    indices_tensor_name: "2 string",
    dense_shape_tensor_name: "3 string",
  },
  // type_spec is a TypeSpecProto upstream; kept as bytes (same wire type, avoids struct.proto).
  "tensorflow.TensorInfo.CompositeTensor": {
    type_spec: "1 bytes",
    components: "2 repeated tensorflow.TensorInfo",
  },
};

const DATA_TYPES: Record<string, number> = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_COMPLEX64: 8,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_QINT8: 11,
  DT_QUINT8: 12,
  DT_QINT32: 13,
  DT_BFLOAT16: 14,
  DT_QINT16: 15,
  DT_QUINT16: 16,
  DT_UINT16: 17,
  DT_COMPLEX128: 18,
  DT_HALF: 19,
  DT_RESOURCE: 20,
  DT_VARIANT: 21,
  DT_UINT32: 22,
  DT_UINT64: 23,
  DT_FLOAT8_E5M2: 24,
  DT_FLOAT8_E4M3FN: 25,
  DT_FLOAT8_E4M3FNUZ: 26,
  DT_FLOAT8_E4M3B11FNUZ: 27,
  DT_FLOAT8_E5M2FNUZ: 28,
  DT_INT4: 29,
  DT_UINT4: 30,
  DT_INT2: 31,
  DT_UINT2: 32,
};
// "*_REF values are the base value + 100 (DT_FLOAT_REF=101 … DT_FLOAT8_E4M3FN_REF=125)".
for (const [name, value] of Object.entries(DATA_TYPES))
  if (value >= 1 && value <= 25) DATA_TYPES[`${name}_REF`] = value + 100;

const ENUMS: Record<string, Record<string, number>> = {
  "tensorflow.DataType": DATA_TYPES,
  "tensorflow.serving.ModelVersionStatus.State": {
    UNKNOWN: 0,
    START: 10,
    LOADING: 20,
    AVAILABLE: 30,
    UNLOADING: 40,
    END: 50,
  },
  "tensorflow.error.Code": {
    OK: 0,
    CANCELLED: 1,
    UNKNOWN: 2,
    INVALID_ARGUMENT: 3,
    DEADLINE_EXCEEDED: 4,
    NOT_FOUND: 5,
    ALREADY_EXISTS: 6,
    PERMISSION_DENIED: 7,
    RESOURCE_EXHAUSTED: 8,
    FAILED_PRECONDITION: 9,
    ABORTED: 10,
    OUT_OF_RANGE: 11,
    UNIMPLEMENTED: 12,
    INTERNAL: 13,
    UNAVAILABLE: 14,
    DATA_LOSS: 15,
    UNAUTHENTICATED: 16,
    DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_: 20,
  },
  "tensorflow.serving.ModelType": { MODEL_TYPE_UNSPECIFIED: 0, TENSORFLOW: 1, OTHER: 2 },
  "tensorflow.serving.SamplingConfig.Attributes": {
    ATTR_DEFAULT: 0,
    ATTR_REQUEST_ORIGIN: 1,
    ATTR_REQUEST_CRITICALITY: 2,
  },
};

/** §2 method table: service → method → "Request -> Response". */
const SERVICES: Record<string, Record<string, string>> = {
  "tensorflow.serving.ModelService": {
    GetModelStatus: "tensorflow.serving.GetModelStatusRequest -> tensorflow.serving.GetModelStatusResponse",
    HandleReloadConfigRequest:
      "tensorflow.serving.ReloadConfigRequest -> tensorflow.serving.ReloadConfigResponse",
  },
  "tensorflow.serving.PredictionService": {
    Classify: "tensorflow.serving.ClassificationRequest -> tensorflow.serving.ClassificationResponse",
    Regress: "tensorflow.serving.RegressionRequest -> tensorflow.serving.RegressionResponse",
    Predict: "tensorflow.serving.PredictRequest -> tensorflow.serving.PredictResponse",
    MultiInference: "tensorflow.serving.MultiInferenceRequest -> tensorflow.serving.MultiInferenceResponse",
    GetModelMetadata:
      "tensorflow.serving.GetModelMetadataRequest -> tensorflow.serving.GetModelMetadataResponse",
  },
};

const DESCRIPTOR_PROTO = "/usr/include/google/protobuf/descriptor.proto"; // Debian libprotobuf-dev

/** The same three tables, read from some source of truth. */
interface Schema {
  message(fullName: string): Record<string, string> | undefined;
  enumValues(fullName: string): Record<string, number> | undefined;
  service(fullName: string): Record<string, string> | undefined;
}

function assertConforms(schema: Schema, source: string): void {
  for (const [name, fields] of Object.entries(MESSAGES))
    assert.deepEqual(schema.message(name), fields, `${source}: message ${name}`);
  for (const [name, values] of Object.entries(ENUMS))
    assert.deepEqual(schema.enumValues(name), values, `${source}: enum ${name}`);
  for (const [name, methods] of Object.entries(SERVICES))
    assert.deepEqual(schema.service(name), methods, `${source}: service ${name}`);
}

// ---- protobufjs registry ----

function registrySchema(root: protobuf.Root): Schema {
  const typeName = (field: protobuf.Field): string =>
    field.resolvedType ? field.resolvedType.fullName.slice(1) : field.type;
  const describe = (field: protobuf.Field): string => {
    const synthetic = field.partOf?.name === `_${field.name}` && field.partOf.oneof.length === 1;
    let type = typeName(field);
    if (field instanceof protobuf.MapField) type = `map<${field.keyType},${type}>`;
    const prefix = field.repeated ? "repeated " : synthetic ? "optional " : "";
    const oneof = field.partOf && !synthetic ? ` oneof ${field.partOf.name}` : "";
    return `${field.id} ${prefix}${type}${oneof}`;
  };
  const lookup = <T>(name: string, kind: new (...args: never[]) => T): T | undefined => {
    const found = root.lookup(name);
    return found instanceof kind ? found : undefined;
  };
  return {
    message(name) {
      const type = lookup(name, protobuf.Type);
      return type && Object.fromEntries(type.fieldsArray.map((f) => [f.name, describe(f)]));
    },
    enumValues(name) {
      const values = lookup(name, protobuf.Enum)?.values;
      return values && { ...values };
    },
    service(name) {
      const service = lookup(name, protobuf.Service);
      return (
        service &&
        Object.fromEntries(
          service.methodsArray.map((m) => {
            m.resolve();
            return [
              m.name,
              `${m.resolvedRequestType?.fullName.slice(1)} -> ${m.resolvedResponseType?.fullName.slice(1)}`,
            ];
          }),
        )
      );
    },
  };
}

test("the protobufjs registry matches the facts sheet's field numbers, types and enum values", () => {
  assertConforms(registrySchema(protoRoot()), "protobufjs registry");
});

// ---- protoc descriptor set ----

interface FieldDescriptor {
  name: string;
  number: number;
  label?: string;
  type: string;
  type_name?: string;
  oneof_index?: number;
  proto3_optional?: boolean;
}
interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nested_type?: MessageDescriptor[];
  enum_type?: Array<{ name: string; value?: Array<{ name: string; number?: number }> }>;
  oneof_decl?: Array<{ name: string }>;
  options?: { map_entry?: boolean };
}
interface FileDescriptor {
  package?: string;
  message_type?: MessageDescriptor[];
  enum_type?: MessageDescriptor["enum_type"];
  service?: Array<{
    name: string;
    method?: Array<{ name: string; input_type: string; output_type: string }>;
  }>;
}

function descriptorSchema(files: FileDescriptor[]): Schema {
  const messages = new Map<string, MessageDescriptor>();
  const enums = new Map<string, Record<string, number>>();
  const services = new Map<string, Record<string, string>>();
  const addEnums = (scope: string, list: MessageDescriptor["enum_type"]) => {
    for (const e of list ?? [])
      enums.set(
        `${scope}.${e.name}`,
        Object.fromEntries((e.value ?? []).map((v) => [v.name, v.number ?? 0])),
      );
  };
  const addMessages = (scope: string, list: MessageDescriptor[] | undefined) => {
    for (const m of list ?? []) {
      const name = `${scope}.${m.name}`;
      messages.set(name, m);
      addMessages(name, m.nested_type);
      addEnums(name, m.enum_type);
    }
  };
  for (const file of files) {
    const scope = file.package ?? "";
    addMessages(scope, file.message_type);
    addEnums(scope, file.enum_type);
    for (const s of file.service ?? [])
      services.set(
        `${scope}.${s.name}`,
        Object.fromEntries(
          (s.method ?? []).map((m) => [m.name, `${m.input_type.slice(1)} -> ${m.output_type.slice(1)}`]),
        ),
      );
  }
  const typeOf = (field: FieldDescriptor): string => {
    if (field.type_name) {
      const entry = messages.get(field.type_name.slice(1));
      if (entry?.options?.map_entry) {
        const [key, value] = entry.field ?? [];
        return `map<${key && typeOf(key)},${value && typeOf(value)}>`;
      }
      return field.type_name.slice(1);
    }
    return field.type.replace(/^TYPE_/, "").toLowerCase();
  };
  return {
    message(name) {
      const m = messages.get(name);
      if (!m) return undefined;
      return Object.fromEntries(
        (m.field ?? []).map((f) => {
          const type = typeOf(f);
          const repeated = f.label === "LABEL_REPEATED" && !type.startsWith("map<");
          const prefix = repeated ? "repeated " : f.proto3_optional ? "optional " : "";
          const oneof =
            f.oneof_index !== undefined && !f.proto3_optional
              ? ` oneof ${m.oneof_decl?.[f.oneof_index]?.name}`
              : "";
          return [f.name, `${f.number} ${prefix}${type}${oneof}`];
        }),
      );
    },
    enumValues: (name) => enums.get(name),
    service: (name) => services.get(name),
  };
}

test(
  "protoc compiles protos/ and the descriptor set matches the facts sheet",
  {
    skip: toolSkip("protoc", "protobuf-compiler"),
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-protos-"));
    try {
      const protos = protosDir();
      const files = readdirRecursive(protos).filter((f) => f.endsWith(".proto"));
      const out = join(dir, "set.pb");
      execFileSync("protoc", ["-I", protos, "-I", "/usr/include", "--include_imports", "-o", out, ...files], {
        cwd: protos,
        stdio: "pipe",
      });
      // Parsed from text: Root.load would swap in protobufjs's bundled camelCase copy of descriptor.proto.
      const descriptorProto = protobuf.parse(readFileSync(DESCRIPTOR_PROTO, "utf8"), { keepCase: true }).root;
      const setType = descriptorProto.lookupType("google.protobuf.FileDescriptorSet");
      const set = setType.toObject(setType.decode(readFileSync(out)), { enums: String, longs: Number }) as {
        file: FileDescriptor[];
      };
      assertConforms(descriptorSchema(set.file), "protoc descriptor set");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

function readdirRecursive(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

test("gRPC method paths are /tensorflow.serving.<Service>/<Method>", () => {
  const definition = tfServingPackageDefinition();
  const paths = Object.entries(SERVICES).flatMap(([service, methods]) =>
    Object.keys(methods).map((method) => {
      const methods = definition[service] as Record<string, { path: string }>;
      return methods[method]?.path;
    }),
  );
  assert.deepEqual(paths, [
    "/tensorflow.serving.ModelService/GetModelStatus",
    "/tensorflow.serving.ModelService/HandleReloadConfigRequest",
    "/tensorflow.serving.PredictionService/Classify",
    "/tensorflow.serving.PredictionService/Regress",
    "/tensorflow.serving.PredictionService/Predict",
    "/tensorflow.serving.PredictionService/MultiInference",
    "/tensorflow.serving.PredictionService/GetModelMetadata",
  ]);
});

// ---- real bytes (facts §7, §8, §6): the field numbers agree with what TF itself wrote ----

const CANONICAL_WITH_DEFAULTS = { longs: String, enums: String, defaults: true } as const;

const METADATA_JSON: Record<string, string> = {
  saved_model_half_plus_two_cpu: "half_plus_two_model_metadata.json",
  saved_model_half_plus_two_2_versions: "saved_model_half_plus_two_2_versions_metadata.json",
};

for (const [model, metadataJson] of Object.entries(METADATA_JSON)) {
  test(
    `${model}: saved_model.pb decodes to exactly the signatures TF Serving's metadata JSON lists`,
    {
      skip: fixturesSkip(),
    },
    () => {
      const version = join(TFSERVING_TESTDATA, model, "00000123");
      const type = messageType("tensorflow.SavedModel");
      const saved = type.toObject(
        type.decode(readFileSync(join(version, "saved_model.pb"))),
        CANONICAL_WITH_DEFAULTS,
      );
      const graphs = saved.meta_graphs as Array<{
        meta_info_def: { tags: string[] };
        signature_def: unknown;
      }>;
      assert.equal(saved.saved_model_schema_version, "1");
      assert.deepEqual(
        graphs.map((g) => g.meta_info_def.tags),
        [["serve"]],
      );
      const expected = JSON.parse(readFileSync(join(TFSERVING_TESTDATA, metadataJson), "utf8")) as {
        metadata: { signature_def: { signature_def: unknown } };
      };
      assert.deepEqual(graphs[0]?.signature_def, expected.metadata.signature_def.signature_def);
    },
  );
}

test(
  "the synthesized warmup record decodes as the PredictionLog the facts sheet describes",
  {
    skip: fixturesSkip(),
  },
  () => {
    const file = readFileSync(join(FIXTURES_DIR, "warmup/half_plus_two_x3/tf_serving_warmup_requests"));
    // TFRecord framing: uint64 length, uint32 masked crc, data, uint32 masked crc.
    const length = Number(file.readBigUInt64LE(0));
    assert.equal(file.length, 8 + 4 + length + 4);
    const type = messageType("tensorflow.serving.PredictionLog");
    const log = type.toObject(type.decode(file.subarray(12, 12 + length)), { longs: String, enums: String });
    assert.deepEqual(log, {
      predict_log: {
        request: {
          model_spec: { name: "half_plus_two", signature_name: "serving_default" },
          inputs: {
            x: {
              dtype: "DT_FLOAT",
              tensor_shape: { dim: [{ size: "3" }, { size: "1" }] },
              float_val: [1, 2, 5],
            },
          },
        },
      },
    });
  },
);
