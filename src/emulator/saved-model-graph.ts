// What the emulator needs from a version's SavedModel beyond the project's reader: the chosen meta graph's
// SignatureDefs exactly as stored (for GetModelMetadata; `_REF` dtypes kept) and whether the graph has variables.
//
// "Graph has variables" without TF: the meta graph carries a `saver_def` (MetaGraphDef field 3). TF's
// SavedModelBuilder writes a SaverDef exactly when the graph has variables to restore from `variables/`; a
// variable-free export (e.g. TF Serving's batching/testdata/matrix_half_plus_two) has none.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { messageType } from "../proto/registry.js";
import { bufferSource, walkFields, type ByteSource } from "../savedmodel/proto-wire.js";
import { SAVED_MODEL_PB, SAVED_MODEL_PBTXT, type SavedModelInfo } from "../savedmodel/reader.js";
import { parseTextFormat } from "../textformat/parse.js";
import type { SignatureDefPlain } from "./serving-api.js";

export interface MetaGraphDetails {
  signatureDefs: Record<string, SignatureDefPlain>;
  hasVariables: boolean;
}

type Plain = Record<string, unknown>;

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((t) => y.has(t));
}

function text(source: ByteSource, start: number, end: number): string {
  return source.bytes(start, end - start).toString("utf8");
}

function fromPb(path: string, tags: readonly string[]): MetaGraphDetails {
  const source = bufferSource(readFileSync(path));
  const signatureType = messageType("tensorflow.SignatureDef");
  for (const graph of walkFields(source)) {
    if (graph.field !== 2 || graph.wireType !== 2) continue;
    const graphTags: string[] = [];
    const signatureDefs: Record<string, SignatureDefPlain> = {};
    let hasVariables = false;
    for (const field of walkFields(source, graph.start, graph.end)) {
      if (field.wireType !== 2) continue;
      if (field.field === 1) {
        for (const info of walkFields(source, field.start, field.end))
          if (info.field === 4 && info.wireType === 2) graphTags.push(text(source, info.start, info.end));
      } else if (field.field === 3) {
        hasVariables = true;
      } else if (field.field === 5) {
        let key = "";
        let value = Buffer.alloc(0);
        for (const entry of walkFields(source, field.start, field.end)) {
          if (entry.wireType !== 2) continue;
          if (entry.field === 1) key = text(source, entry.start, entry.end);
          if (entry.field === 2) value = Buffer.from(source.bytes(entry.start, entry.end - entry.start));
        }
        signatureDefs[key] = signatureType.toObject(signatureType.decode(value), {
          longs: String,
          enums: String,
        }) as SignatureDefPlain;
      }
    }
    if (sameTags(graphTags, tags)) return { signatureDefs, hasVariables };
  }
  return { signatureDefs: {}, hasVariables: false };
}

function fromPbtxt(path: string, tags: readonly string[]): MetaGraphDetails {
  const raw = readFileSync(path, "utf8");
  const type = messageType("tensorflow.SavedModel");
  const plain = parseTextFormat(raw, type, path, { allowUnknownFields: true });
  const graphs = (plain.meta_graphs as Plain[] | undefined) ?? [];
  const chosen = graphs.find((g) =>
    sameTags(((g.meta_info_def as Plain | undefined)?.tags as string[] | undefined) ?? [], tags),
  );
  return {
    signatureDefs: (chosen?.signature_def as Record<string, SignatureDefPlain> | undefined) ?? {},
    hasVariables: /(^|[\s{])saver_def\s*[:{]/m.test(raw),
  };
}

/** Reads the meta graph the project's reader chose (`info`, which already validated file and tag set). */
export function readMetaGraphDetails(dir: string, info: SavedModelInfo): MetaGraphDetails {
  return info.format === "pb"
    ? fromPb(join(dir, SAVED_MODEL_PB), info.tags)
    : fromPbtxt(join(dir, SAVED_MODEL_PBTXT), info.tags);
}
