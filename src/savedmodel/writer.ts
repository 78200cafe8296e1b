import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { messageType } from "../proto/registry.js";
import { encodeVarint, lengthDelimitedHeader } from "./proto-wire.js";
import { SAVED_MODEL_PB } from "./reader.js";

/** An input or output to write; `shape` null means unknown rank, undefined means no tensor_shape at all. */
export interface TensorToWrite {
  dtype: string | number;
  shape?: number[] | null;
  /** Graph tensor name, e.g. "x:0". */
  name?: string;
  cooSparse?: { values: string; indices: string; denseShape: string };
}

export interface SignatureToWrite {
  method?: string;
  inputs?: Record<string, TensorToWrite>;
  outputs?: Record<string, TensorToWrite>;
}

export interface MetaGraphToWrite {
  tags: string[];
  signatures: Record<string, SignatureToWrite>;
  /** Raw bytes written as MetaGraphDef.graph_def (field 2), BEFORE signature_def as TF does; never decoded. */
  graphDefBytes?: Buffer | GraphDefStream;
}

/** A graph_def too large to hold in memory (hundreds of MB): its length, and its bytes produced chunk by chunk. */
export interface GraphDefStream {
  length: number;
  chunks(): Iterable<Buffer>;
}

export interface WriteSavedModelOptions {
  signatures?: Record<string, SignatureToWrite>;
  /** Tags of the single meta graph (default ["serve"]); ignored when `metaGraphs` is given. */
  tags?: string[];
  graphDefBytes?: Buffer | GraphDefStream;
  /** Several meta graphs instead of the single one described by signatures/tags/graphDefBytes. */
  metaGraphs?: MetaGraphToWrite[];
  /** Also write variables/variables.index and variables/variables.data-00000-of-00001 (placeholders that pass the admission completeness check). */
  withVariables?: boolean;
}

type Plain = Record<string, unknown>;

/**
 * Not a real tensor bundle, but shaped like one where the admission check looks (src/admission/completeness.ts):
 * non-empty and ending with the 48-byte table footer whose last 8 bytes are TF's table magic.
 */
const PLACEHOLDER_INDEX = Buffer.concat([Buffer.alloc(40), Buffer.from("57fb808b247547db", "hex")]);

function tensorInfo(tensor: TensorToWrite): Plain {
  const info: Plain = { dtype: tensor.dtype };
  if (tensor.cooSparse) {
    info.coo_sparse = {
      values_tensor_name: tensor.cooSparse.values,
      indices_tensor_name: tensor.cooSparse.indices,
      dense_shape_tensor_name: tensor.cooSparse.denseShape,
    };
  } else if (tensor.name !== undefined) info.name = tensor.name;
  if (tensor.shape === null) info.tensor_shape = { unknown_rank: true };
  else if (tensor.shape !== undefined)
    info.tensor_shape = { dim: tensor.shape.map((size) => ({ size: String(size) })) };
  return info;
}

function tensorMap(tensors: Record<string, TensorToWrite> | undefined): Record<string, Plain> {
  return Object.fromEntries(Object.entries(tensors ?? {}).map(([alias, t]) => [alias, tensorInfo(t)]));
}

/** Canonical `tensorflow.SignatureDef` plain object. */
export function signatureDefObject(signature: SignatureToWrite): Plain {
  return {
    inputs: tensorMap(signature.inputs),
    outputs: tensorMap(signature.outputs),
    ...(signature.method === undefined ? {} : { method_name: signature.method }),
  };
}

/** The pieces of one MetaGraphDef's encoding, in order (graph_def bytes kept as their own piece, not copied). */
function metaGraphPieces(metaGraph: MetaGraphToWrite): (Buffer | GraphDefStream)[] {
  const type = messageType("tensorflow.MetaGraphDef");
  const infoOnly = type.encode(type.fromObject({ meta_info_def: { tags: metaGraph.tags } })).finish();
  const signatureDef = Object.fromEntries(
    Object.entries(metaGraph.signatures).map(([name, s]) => [name, signatureDefObject(s)]),
  );
  const signaturesOnly = type.encode(type.fromObject({ signature_def: signatureDef })).finish();
  const pieces: (Buffer | GraphDefStream)[] = [Buffer.from(infoOnly)];
  if (metaGraph.graphDefBytes) {
    pieces.push(lengthDelimitedHeader(2, metaGraph.graphDefBytes.length), metaGraph.graphDefBytes);
  }
  pieces.push(Buffer.from(signaturesOnly));
  return pieces;
}

function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

function writePiece(fd: number, piece: Buffer | GraphDefStream): void {
  if (Buffer.isBuffer(piece)) return writeAll(fd, piece);
  let written = 0;
  for (const chunk of piece.chunks()) {
    writeAll(fd, chunk);
    written += chunk.length;
  }
  if (written !== piece.length)
    throw new Error(`graph_def stream wrote ${written} bytes, announced ${piece.length}`);
}

/**
 * Writes a real binary saved_model.pb (schema version 1) into `dir`, streaming the pieces so a huge fake graph_def
 * is never concatenated in memory. Returns the path of saved_model.pb.
 */
export function writeSavedModel(dir: string, options: WriteSavedModelOptions): string {
  const metaGraphs = options.metaGraphs ?? [
    {
      tags: options.tags ?? ["serve"],
      signatures: options.signatures ?? {},
      ...(options.graphDefBytes ? { graphDefBytes: options.graphDefBytes } : {}),
    },
  ];
  mkdirSync(dir, { recursive: true });
  const path = join(dir, SAVED_MODEL_PB);
  const fd = openSync(path, "w");
  try {
    writeAll(fd, Buffer.concat([encodeVarint(1 << 3), encodeVarint(1)])); // saved_model_schema_version: 1
    for (const metaGraph of metaGraphs) {
      const pieces = metaGraphPieces(metaGraph);
      const length = pieces.reduce((sum, p) => sum + p.length, 0);
      writeAll(fd, lengthDelimitedHeader(2, length));
      for (const piece of pieces) writePiece(fd, piece);
    }
  } finally {
    closeSync(fd);
  }
  if (options.withVariables) {
    mkdirSync(join(dir, "variables"), { recursive: true });
    writeFileSync(join(dir, "variables", "variables.index"), PLACEHOLDER_INDEX);
    writeFileSync(join(dir, "variables", "variables.data-00000-of-00001"), Buffer.alloc(4));
  }
  return path;
}
