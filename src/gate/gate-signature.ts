// Where the gate learns a version's signatures, and the one form it works on (GateSignature).
//
// The daemon should use `servedSignatures` (GetModelMetadata by version number) and fall back to
// `savedModelSignatures` only when metadata is unavailable. The served map is what TF Serving actually loaded:
// the meta graph chosen by its --saved_model_tags, as read at load time (a directory rewritten in place is never
// reloaded, facts §4 "Version numbers are identities"), it is what clients see, it carries `defaults`, and it
// works when base_path is remote storage the daemon cannot read (gs://, s3://, hdfs://).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { messageType } from "../proto/registry.js";
import { readSavedModel } from "../savedmodel/reader.js";
import { FileSource, walkFields } from "../savedmodel/proto-wire.js";
import { signatureOf, type TensorSpec } from "../savedmodel/signature.js";
import { parseTextFormat } from "../textformat/parse.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";

export type { TensorSpec } from "../savedmodel/signature.js";

export interface GateSignature {
  /** e.g. "tensorflow/serving/predict"; "" for `__saved_model_init_op`. */
  method: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
  /** Aliases of inputs that have a value in the SignatureDef's `defaults` map (clients may omit them). */
  defaults: string[];
}

export type GateSignatures = Record<string, GateSignature>;

/** Where signatures come from; `describe` goes into check details ("served by TF Serving", a directory). */
export interface SignatureSource {
  readonly describe: string;
  signatures(version: string): Promise<GateSignatures>;
}

type Plain = Record<string, unknown>;

/** GateSignature from a canonical `tensorflow.SignatureDef` plain object. */
export function gateSignatureOf(def: Plain): GateSignature {
  const info = signatureOf(def);
  return { ...info, defaults: Object.keys((def.defaults as Plain | undefined) ?? {}).sort() };
}

/** Signatures TF Serving serves for a version (GetModelMetadata with ModelSpec.version, never a label). */
export function servedSignatures(
  grpc: TfServingGrpcClient,
  model: string,
  deadlineMs?: number,
): SignatureSource {
  return {
    describe: `served by TF Serving at ${grpc.address} (GetModelMetadata)`,
    async signatures(version) {
      const metadata = await grpc.getModelMetadata(model, {
        version,
        ...(deadlineMs === undefined ? {} : { deadlineMs }),
      });
      return Object.fromEntries(
        Object.entries(metadata.signature_def).map(([name, def]) => [name, gateSignatureOf(def)]),
      );
    },
  };
}

/** Signatures read from `<versionDir(version)>` on disk, with TF's tag-set rule (default {"serve"}). */
export function savedModelSignatures(
  versionDir: (version: string) => string,
  tags?: readonly string[],
): SignatureSource {
  return {
    describe: "read from the SavedModel on disk",
    // async so a read error is a rejection, like the served source's, never a synchronous throw.
    signatures: async (version) => readGateSignatures(versionDir(version), tags),
  };
}

/** readSavedModel (file choice, tag set, errors) plus each signature's `defaults` keys, which it does not keep. */
export function readGateSignatures(dir: string, tags?: readonly string[]): GateSignatures {
  const info = readSavedModel(dir, tags === undefined ? {} : { tags });
  const defaults =
    info.format === "pb"
      ? pbDefaults(join(dir, "saved_model.pb"), info.tags)
      : pbtxtDefaults(info.file, info.tags);
  return Object.fromEntries(
    Object.entries(info.signatures).map(([name, signature]) => [
      name,
      { ...signature, defaults: defaults(name) },
    ]),
  );
}

/** saved_model.pbtxt: the whole text goes through the text-format parser again (the reader keeps no defaults). */
function pbtxtDefaults(file: string, tags: readonly string[]): (signature: string) => string[] {
  const plain = parseTextFormat(readFileSync(file, "utf8"), messageType("tensorflow.SavedModel"), file, {
    allowUnknownFields: true,
  });
  const graph = ((plain.meta_graphs as Plain[] | undefined) ?? []).find((g) =>
    sameTags(((g.meta_info_def as Plain | undefined)?.tags as string[] | undefined) ?? [], tags),
  );
  const defs = (graph?.signature_def as Record<string, Plain> | undefined) ?? {};
  return (signature) => Object.keys((defs[signature]?.defaults as Plain | undefined) ?? {}).sort();
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((t) => x.has(t));
}

/** Walks saved_model.pb by positional reads (graph_def is skipped, never loaded) for SignatureDef.defaults keys. */
function pbDefaults(path: string, tags: readonly string[]): (signature: string) => string[] {
  const source = new FileSource(path);
  const type = messageType("tensorflow.SignatureDef");
  const found = new Map<string, string[]>();
  try {
    for (const graph of walkFields(source)) {
      if (graph.field !== 2 || graph.wireType !== 2) continue;
      const graphTags: string[] = [];
      const signatureEntries: [number, number][] = [];
      for (const field of walkFields(source, graph.start, graph.end)) {
        if (field.wireType !== 2) continue;
        if (field.field === 1) {
          for (const info of walkFields(source, field.start, field.end))
            if (info.field === 4 && info.wireType === 2)
              graphTags.push(source.bytes(info.start, info.end - info.start).toString("utf8"));
        } else if (field.field === 5) signatureEntries.push([field.start, field.end]);
      }
      if (!sameTags(graphTags, tags)) continue;
      for (const [start, end] of signatureEntries) {
        let key = "";
        let value = Buffer.alloc(0);
        for (const entry of walkFields(source, start, end)) {
          if (entry.wireType !== 2) continue;
          const bytes = Buffer.from(source.bytes(entry.start, entry.end - entry.start));
          if (entry.field === 1) key = bytes.toString("utf8");
          else if (entry.field === 2) value = bytes;
        }
        const def = type.toObject(type.decode(value), { longs: String, enums: String }) as Plain;
        found.set(key, Object.keys((def.defaults as Plain | undefined) ?? {}).sort());
      }
      break;
    }
  } finally {
    source.close();
  }
  return (signature) => found.get(signature) ?? [];
}
