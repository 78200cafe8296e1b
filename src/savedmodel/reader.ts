import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RolloutError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { parseTextFormat } from "../textformat/parse.js";
import { unreadable } from "./fs-errors.js";
import { FileSource, WireFormatError, toInt64, walkFields, type ByteSource } from "./proto-wire.js";
import { signatureOf, type SignatureInfo } from "./signature.js";

export const SAVED_MODEL_PB = "saved_model.pb";
export const SAVED_MODEL_PBTXT = "saved_model.pbtxt";
export const DEFAULT_TAGS: readonly string[] = ["serve"];

/** What one MetaGraphDef says, with everything but tags and signatures skipped. */
export interface MetaGraphInfo {
  tags: string[];
  signatures: Record<string, SignatureInfo>;
}

export interface SavedModelInfo {
  /** The file that was read (saved_model.pb or saved_model.pbtxt). */
  file: string;
  format: "pb" | "pbtxt";
  schemaVersion: string;
  /** Tags of the chosen meta graph. */
  tags: string[];
  signatures: Record<string, SignatureInfo>;
  /** Tag sets of every meta graph in the file, in file order. */
  availableTagSets: string[][];
}

type Plain = Record<string, unknown>;

const SavedModelField = { schemaVersion: 1, metaGraphs: 2 } as const;
const MetaGraphField = { metaInfoDef: 1, signatureDef: 5 } as const;
const MetaInfoField = { tags: 4 } as const;
const MapEntryField = { key: 1, value: 2 } as const;

/**
 * Reads a SavedModel version directory like TF's loader: saved_model.pb, else saved_model.pbtxt; then picks the
 * meta graph whose tag set EQUALS `tags` (default {"serve"}).
 */
export function readSavedModel(dir: string, options: { tags?: readonly string[] } = {}): SavedModelInfo {
  const tags = options.tags ?? DEFAULT_TAGS;
  const pb = join(dir, SAVED_MODEL_PB);
  const pbtxt = join(dir, SAVED_MODEL_PBTXT);
  let file: string;
  let format: "pb" | "pbtxt";
  let parsed: { schemaVersion: string; metaGraphs: MetaGraphInfo[] };
  if (existsSync(pb)) {
    file = pb;
    format = "pb";
    parsed = readSavedModelPb(pb);
  } else if (existsSync(pbtxt)) {
    file = pbtxt;
    format = "pbtxt";
    parsed = readSavedModelPbtxt(pbtxt);
  } else {
    throw new RolloutError(
      `Could not find SavedModel .pb or .pbtxt at supplied export directory path: ${dir}`,
      {
        where: dir,
        hint: `a version directory must contain ${SAVED_MODEL_PB} (or ${SAVED_MODEL_PBTXT}); check the path and that the export finished`,
      },
    );
  }
  const chosen = selectMetaGraph(parsed.metaGraphs, tags, file);
  return {
    file,
    format,
    schemaVersion: parsed.schemaVersion,
    tags: chosen.tags,
    signatures: chosen.signatures,
    availableTagSets: parsed.metaGraphs.map((m) => m.tags),
  };
}

/** TF's rule: the meta graph's tag SET must equal the requested set (order and duplicates do not matter). */
export function selectMetaGraph(
  metaGraphs: MetaGraphInfo[],
  tags: readonly string[],
  file: string,
): MetaGraphInfo {
  const wanted = new Set(tags);
  const match = metaGraphs.find((m) => {
    const have = new Set(m.tags);
    return have.size === wanted.size && [...wanted].every((t) => have.has(t));
  });
  if (match) return match;
  const present = metaGraphs.map((m) => `{ ${m.tags.join(" ")} }`).join(", ") || "none";
  throw new RolloutError(
    `Could not find meta graph def matching supplied tags: { ${tags.join(" ")} }. ` +
      `To inspect available tag-sets in the SavedModel, please use the SavedModel CLI: \`saved_model_cli\`. ` +
      `Tag sets present: ${present}`,
    { where: file, hint: "pass the exact tag set of one meta graph, e.g. --tags serve,gpu" },
  );
}

/** Walks a binary saved_model.pb by positional reads; graph_def, object_graph_def etc. are skipped by length. */
export function readSavedModelPb(path: string): { schemaVersion: string; metaGraphs: MetaGraphInfo[] } {
  let source: FileSource;
  try {
    source = new FileSource(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    return walkSavedModel(source);
  } catch (error) {
    if (error instanceof WireFormatError) {
      throw new RolloutError(`corrupt SavedModel at byte offset ${error.offset}: ${error.message}`, {
        where: `${path}@${error.offset}`,
        hint: "the file is truncated or not a binary tensorflow.SavedModel; re-export or re-copy it",
        cause: error,
      });
    }
    throw unreadable(path, error);
  } finally {
    source.close();
  }
}

/** The SavedModel walk over any byte source (exported for in-memory use and tests). */
export function walkSavedModel(source: ByteSource): { schemaVersion: string; metaGraphs: MetaGraphInfo[] } {
  let schemaVersion = "0";
  const metaGraphs: MetaGraphInfo[] = [];
  for (const field of walkFields(source)) {
    if (field.field === SavedModelField.schemaVersion && field.wireType === 0) {
      schemaVersion = toInt64(field.value).toString();
    } else if (field.field === SavedModelField.metaGraphs && field.wireType === 2) {
      metaGraphs.push(walkMetaGraph(source, field.start, field.end));
    }
  }
  return { schemaVersion, metaGraphs };
}

function walkMetaGraph(source: ByteSource, start: number, end: number): MetaGraphInfo {
  const tags: string[] = [];
  const signatures: Record<string, SignatureInfo> = {};
  for (const field of walkFields(source, start, end)) {
    if (field.wireType !== 2) continue;
    if (field.field === MetaGraphField.metaInfoDef) {
      // Repeated occurrences of a message field merge; repeated tags concatenate.
      for (const info of walkFields(source, field.start, field.end)) {
        if (info.field === MetaInfoField.tags && info.wireType === 2) {
          tags.push(source.bytes(info.start, info.end - info.start).toString("utf8"));
        }
      }
    } else if (field.field === MetaGraphField.signatureDef) {
      const [key, value] = readMapEntry(source, field.start, field.end);
      signatures[key] = decodeSignatureDef(value, field.start);
    }
    // Everything else (graph_def 2, saver_def 3, collection_def 4, asset_file_def 6, object_graph_def 7) is skipped.
  }
  return { tags, signatures };
}

/** A map<string, Message> entry; a later duplicate key simply overwrites the earlier one at the caller. */
function readMapEntry(source: ByteSource, start: number, end: number): [string, Buffer] {
  let key = "";
  let value = Buffer.alloc(0);
  for (const field of walkFields(source, start, end)) {
    if (field.wireType !== 2) continue;
    if (field.field === MapEntryField.key)
      key = source.bytes(field.start, field.end - field.start).toString("utf8");
    else if (field.field === MapEntryField.value)
      value = Buffer.from(source.bytes(field.start, field.end - field.start));
  }
  return [key, value];
}

function decodeSignatureDef(bytes: Buffer, offset: number): SignatureInfo {
  const type = messageType("tensorflow.SignatureDef");
  let plain: Plain;
  try {
    plain = type.toObject(type.decode(bytes), { longs: String, enums: String });
  } catch (error) {
    throw new WireFormatError(`bad SignatureDef: ${(error as Error).message}`, offset);
  }
  return signatureOf(plain);
}

/** saved_model.pbtxt through the project's text-format parser. */
export function readSavedModelPbtxt(path: string): { schemaVersion: string; metaGraphs: MetaGraphInfo[] } {
  let plain: Plain;
  try {
    const type = messageType("tensorflow.SavedModel");
    // Real .pbtxt files hold graph_def, saver_def... which our trimmed protos leave out: skip them.
    plain = parseTextFormat(readFileSync(path, "utf8"), type, path, { allowUnknownFields: true });
  } catch (error) {
    // A bad model file is a failed check (exit 1), not a usage error, whatever the parser classifies it as.
    if (error instanceof RolloutError) {
      const located = error.where !== undefined && error.message.startsWith(error.where);
      throw new RolloutError(error.message, {
        where: located ? undefined : error.where,
        hint: error.hint,
        cause: error,
      });
    }
    throw error;
  }
  const metaGraphs = ((plain.meta_graphs as Plain[] | undefined) ?? []).map((mg): MetaGraphInfo => {
    const info = (mg.meta_info_def as Plain | undefined) ?? {};
    const defs = (mg.signature_def as Record<string, Plain> | undefined) ?? {};
    const signatures: Record<string, SignatureInfo> = {};
    for (const [name, def] of Object.entries(defs)) signatures[name] = signatureOf(def);
    return { tags: ((info.tags as string[] | undefined) ?? []).map(String), signatures };
  });
  return { schemaVersion: String(plain.saved_model_schema_version ?? "0"), metaGraphs };
}
