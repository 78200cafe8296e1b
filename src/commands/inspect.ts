import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { CommandContext } from "../program.js";
import { DEFAULT_TAGS, readSavedModel, type SavedModelInfo } from "../savedmodel/reader.js";
import type { TensorSpec } from "../savedmodel/signature.js";
import { readWarmupFile, WARMUP_FILE, type WarmupSummary } from "../warmup/reader.js";
import { printJson } from "./io.js";

interface InspectOptions {
  json?: boolean;
  tags: string;
}

export function registerInspect(program: Command, ctx: CommandContext): void {
  program
    .command("inspect")
    .description("Show the signatures and warmup records of a SavedModel version directory")
    .argument("<VERSION_DIR>", "a SavedModel version directory, e.g. /models/half_plus_two/00000123")
    .option("--json", "print one JSON object on stdout")
    .option(
      "--tags <tags>",
      "comma-separated tag set of the meta graph to show (must match exactly)",
      "serve",
    )
    .action((versionDir: string, options: InspectOptions) => {
      const dir = resolve(ctx.io.cwd, versionDir);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        throw new UsageError(`version directory not found: ${dir}`, {
          where: dir,
          hint: "pass the path of one numbered version directory (the one holding saved_model.pb)",
        });
      }
      const tags = parseTags(options.tags);
      const model = readSavedModel(dir, { tags });
      const warmupPath = join(dir, WARMUP_FILE);
      const warmup = existsSync(warmupPath) ? readWarmupFile(warmupPath) : null;
      for (const problem of warmup?.problems ?? []) {
        ctx.io.stderr(`warning: TF Serving would fail this version's warmup: ${problem}\n`);
      }
      if (options.json) printJson(ctx.io, inspectJson(model, warmup));
      else ctx.io.stdout(renderReport(model, warmup));
    });
}

function parseTags(text: string): string[] {
  const tags = text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  if (tags.length === 0) {
    throw new UsageError(`--tags "${text}" names no tag`, {
      where: "--tags",
      hint: `give a comma-separated tag set, e.g. --tags ${DEFAULT_TAGS.join(",")}`,
    });
  }
  return tags;
}

/** The `--json` shape: tags, signatures{method, inputs, outputs}, warmup{records, predict} | null (+ extra keys). */
export function inspectJson(model: SavedModelInfo, warmup: WarmupSummary | null): Record<string, unknown> {
  return {
    tags: model.tags,
    signatures: model.signatures,
    warmup:
      warmup === null
        ? null
        : {
            records: warmup.records,
            predict: warmup.predict,
            kinds: warmup.kinds,
            moreThanMax: warmup.moreThanMax,
            problems: warmup.problems,
          },
    file: model.file,
    availableTagSets: model.availableTagSets,
  };
}

function renderShape(shape: number[] | null): string {
  if (shape === null) return "unknown_rank";
  // Python tuple syntax, as saved_model_cli prints it: (), (-1,), (-1, 1).
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function renderTensor(kind: "inputs" | "outputs", alias: string, spec: TensorSpec): string {
  const lines = [`    ${kind}['${alias}'] tensor_info:`, `        dtype: ${spec.dtype}`];
  lines.push(`        shape: ${renderShape(spec.shape)}`);
  if (spec.encoding === "coo_sparse" && spec.cooSparse) {
    lines.push(
      `        coo_sparse: values: ${spec.cooSparse.values} indices: ${spec.cooSparse.indices} ` +
        `dense_shape: ${spec.cooSparse.denseShape}`,
    );
  } else if (spec.encoding === "composite_tensor") {
    lines.push(`        composite_tensor with ${spec.components?.length ?? 0} component(s)`);
  } else if (spec.name !== undefined) {
    lines.push(`        name: ${spec.name}`);
  }
  return lines.join("\n");
}

/** A report in the style of `saved_model_cli show --all`, plus a warmup summary. */
export function renderReport(model: SavedModelInfo, warmup: WarmupSummary | null): string {
  const out: string[] = [
    `MetaGraphDef with tag-set: '${model.tags.join(", ")}' contains the following SignatureDefs:`,
    `(read from ${model.file})`,
  ];
  for (const name of Object.keys(model.signatures).sort()) {
    const signature = model.signatures[name]!;
    out.push("", `signature_def['${name}']:`);
    out.push("  The given SavedModel SignatureDef contains the following input(s):");
    for (const [alias, spec] of Object.entries(signature.inputs))
      out.push(renderTensor("inputs", alias, spec));
    out.push("  The given SavedModel SignatureDef contains the following output(s):");
    for (const [alias, spec] of Object.entries(signature.outputs))
      out.push(renderTensor("outputs", alias, spec));
    out.push(`  Method name is: ${signature.method}`);
  }
  out.push("");
  if (warmup === null) out.push(`Warmup: none (no ${WARMUP_FILE})`);
  else {
    const counts = Object.entries(warmup.kinds)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(", ");
    out.push(`Warmup: ${warmup.records} record(s) in ${WARMUP_FILE}${counts ? `: ${counts}` : ""}`);
    if (warmup.moreThanMax) out.push(`  more records follow; only the first ${warmup.records} were read`);
  }
  return `${out.join("\n")}\n`;
}
