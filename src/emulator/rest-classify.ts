// REST :classify and :regress (facts §5): tf.Example JSON → serialized Examples → the signature run through
// ServingApi.predict (the emulator computes outputs from the examples' first numeric feature, see behaviour.ts)
// → {"results": ...}. Checks and messages follow json_tensor.cc and regressor.cc / classifier.cc.

import { messageType } from "../proto/registry.js";
import { decodeTensor, type TensorProtoObject } from "../tensor/codec.js";
import { isInt64, isUint64, member, parseRequestEnvelope, type JsonNode } from "./rest-json-parse.js";
import { jsonValueToString, PrettyWriter, writeDecimal } from "./rest-json-write.js";
import { isBase64Object } from "./rest-predict-json.js";
import { modelSpecOf, type RestRoute } from "./rest-routes.js";
import { ServingError, type ServingApi, type SignatureDefPlain } from "./serving-api.js";

const invalid = (message: string): ServingError => new ServingError("INVALID_ARGUMENT", message);

type Kind = "bytes_list" | "float_list" | "int64_list";
const KIND_NAMES: Record<Kind, string> = { bytes_list: "bytes", float_list: "float", int64_list: "int64" };

interface FeatureBuilder {
  kind?: Kind;
  values: unknown[];
}

function addToFeature(node: JsonNode, name: string, feature: FeatureBuilder): void {
  const want = (kind: Kind): void => {
    if (feature.kind !== undefined && feature.kind !== kind)
      throw invalid(
        `Unexpected element type in feature: ${name} expecting type: ${KIND_NAMES[feature.kind]}`,
      );
    feature.kind = kind;
  };
  const unexpected = (type: string): ServingError =>
    invalid(`Feature: ${name} has element with unexpected JSON type: ${type}`);
  switch (node.kind) {
    case "null":
      throw unexpected("Null");
    case "array":
      throw unexpected("Array");
    case "bool":
      want("int64_list");
      feature.values.push(node.value ? "1" : "0");
      return;
    case "object": {
      if (!isBase64Object(node)) throw unexpected("Object");
      want("bytes_list");
      feature.values.push(Buffer.from((node.members[0]![1] as { value: string }).value, "base64"));
      return;
    }
    case "string":
      want("bytes_list");
      feature.values.push(Buffer.from(node.value, "utf8"));
      return;
    case "number":
      if (node.integer === undefined) {
        want("float_list");
        if (Number.isFinite(node.value) && Math.abs(node.value) > 3.4028234663852886e38)
          throw invalid(
            `Cannot convert JSON value: ${jsonValueToString(node)} to float without loss of precision.`,
          );
        feature.values.push(Math.fround(node.value));
      } else {
        want("int64_list");
        if (!isInt64(node) && isUint64(node))
          throw invalid(`Feature: ${name} has uint64 element. Only int64 is supported.`);
        feature.values.push(node.integer.toString());
      }
  }
}

/** MakeExampleFromJsonObject, serialized. */
function exampleBytes(node: JsonNode): Buffer {
  if (node.kind !== "object") {
    const type =
      node.kind === "bool"
        ? node.value
          ? "True"
          : "False"
        : node.kind[0]!.toUpperCase() + node.kind.slice(1);
    throw invalid(`Example must be JSON object but got JSON ${type}`);
  }
  const feature: Record<string, unknown> = {};
  for (const [name, content] of node.members) {
    const builder: FeatureBuilder = { values: [] };
    if (content.kind === "array") content.items.forEach((item) => addToFeature(item, name, builder));
    else addToFeature(content, name, builder);
    feature[name] = builder.kind ? { [builder.kind]: { value: builder.values } } : {};
  }
  const type = messageType("tensorflow.Example");
  return Buffer.from(type.encode(type.fromObject({ features: { feature } })).finish());
}

/** FillClassifyRegressRequestFromJson: the signature name and the serialized examples (context merged in). */
function examplesFromJson(body: string): { signatureName: string; examples: Buffer[] } {
  const { doc, signatureName, formatError } = parseRequestEnvelope(body);
  const context = member(doc, "context");
  const contextBytes = context ? exampleBytes(context) : undefined;
  const examples = member(doc, "examples");
  // TF's message says "classify" for regress requests too.
  if (!examples) throw formatError("When method is classify, key 'examples' is expected and was not found");
  if (examples.kind !== "array") throw formatError("Expecting 'examples' value to be an list/array");
  if (examples.items.length === 0) throw formatError("'examples' value is an empty array");
  return {
    signatureName,
    // Serialized protobufs concatenate as a merge: the example's features override the context's.
    examples: examples.items.map((item) => {
      const bytes = exampleBytes(item);
      return contextBytes ? Buffer.concat([contextBytes, bytes]) : bytes;
    }),
  };
}

const METHOD = { classify: "tensorflow/serving/classify", regress: "tensorflow/serving/regress" } as const;

function findSignature(
  api: ServingApi,
  route: RestRoute,
  kind: "classify" | "regress",
  signatureName: string,
): { name: string; signature: SignatureDefPlain } {
  const name = signatureName || "serving_default";
  const signature = api.modelMetadata(modelSpecOf(route)).signature_def[name];
  if (!signature) throw invalid(`No signature was found with the name: ${name}`);
  const label = kind === "classify" ? "classification" : "regression";
  if (signature.method_name !== METHOD[kind])
    throw invalid(
      `Expected ${label} signature method_name to be ${METHOD[kind]}. Was: ${signature.method_name}`,
    );
  if (Object.keys(signature.inputs).length !== 1) throw invalid("Expected one input Tensor.");
  if (!signature.inputs.inputs)
    throw new ServingError("FAILED_PRECONDITION", `No ${label} inputs found in SignatureDef: ${name}`);
  return { name, signature };
}

function regressionJson(outputs: Record<string, TensorProtoObject>, count: number): string {
  const tensor = outputs.outputs;
  if (!tensor) throw new ServingError("FAILED_PRECONDITION", "No regression outputs found in SignatureDef");
  const { dtype, shape, values } = decodeTensor(tensor);
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1)))
    throw invalid(
      `Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [${shape.join(",")}]`,
    );
  if (shape[0] !== count)
    throw invalid(`Input batch size did not match output batch size: ${count} vs. ${shape[0]}`);
  if (dtype !== "DT_FLOAT") throw invalid(`Expected output Tensor of DT_FLOAT.  Got: ${dtype}`);
  const writer = new PrettyWriter();
  writer.startObject();
  writer.key("results");
  writer.singleLineArrays = true;
  writer.startArray();
  values.forEach((value) => writer.raw(writeDecimal(value as number, "float")));
  writer.endArray();
  writer.endObject();
  return writer.toString();
}

function classificationJson(outputs: Record<string, TensorProtoObject>, count: number): string {
  const classes = outputs.classes ? decodeTensor(outputs.classes) : undefined;
  const scores = outputs.scores ? decodeTensor(outputs.scores) : undefined;
  const shape = (scores ?? classes)?.shape;
  if (!shape) throw invalid("Expected classification signature outputs to contain classes or scores.");
  if (shape.length !== 2)
    throw invalid(`Expected Tensor shape: [batch_size num_classes] but got [${shape.join(",")}]`);
  if (shape[0] !== count)
    throw invalid(`Input batch size did not match output batch size: ${count} vs. ${shape[0]}`);
  const perExample = shape[1]!;
  const writer = new PrettyWriter();
  writer.startObject();
  writer.key("results");
  writer.startArray();
  for (let i = 0; i < count; i++) {
    writer.singleLineArrays = true;
    writer.startArray();
    for (let j = 0; j < perExample; j++) {
      writer.startArray();
      writer.string(classes ? (classes.values[i * perExample + j] as Buffer).toString("utf8") : "");
      writer.raw(writeDecimal(scores ? (scores.values[i * perExample + j] as number) : 0, "float"));
      writer.endArray();
    }
    writer.endArray();
    writer.singleLineArrays = false;
  }
  writer.endArray();
  writer.endObject();
  return writer.toString();
}

/** The reply body of a REST :classify or :regress call. */
export async function regressOrClassify(api: ServingApi, route: RestRoute, body: string): Promise<string> {
  const kind = route.kind === "classify" ? "classify" : "regress";
  const { signatureName, examples } = examplesFromJson(body);
  const { name } = findSignature(api, route, kind, signatureName);
  const response = await api.predict({
    model_spec: modelSpecOf(route, name),
    inputs: {
      inputs: {
        dtype: "DT_STRING",
        tensor_shape: { dim: [{ size: String(examples.length) }] },
        string_val: examples,
      },
    },
  });
  return kind === "regress"
    ? regressionJson(response.outputs, examples.length)
    : classificationJson(response.outputs, examples.length);
}
