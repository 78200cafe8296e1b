import { isDeepStrictEqual } from "node:util";
import { RolloutError, UsageError } from "../errors.js";
import { messageType } from "../proto/registry.js";
import { parseTextFormat, parseTextFormatTree, TextFormatError } from "../textformat/parse.js";
import { DEFAULT_PRINT_STYLE, printField, printTextFormat, type PrintStyle } from "../textformat/print.js";
import type { FieldNode, MessageNode } from "../textformat/syntax-tree.js";
import {
  applyEdits,
  endsLine,
  eolOf,
  lineEnd,
  lineIndent,
  lineStart,
  removalRange,
  startsLine,
  type TextEdit,
} from "./edit-text.js";

const SERVER_CONFIG = "tensorflow.serving.ModelServerConfig";
const MODEL_CONFIG = "tensorflow.serving.ModelConfig";
const VERSION_POLICY = "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy";
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Int64Input = string | number | bigint;

/** A `model_version_policy` value (ServableVersionPolicy), in canonical form or with numbers for versions. */
export type VersionPolicy =
  | { specific: { versions?: Int64Input[] } }
  | { latest: { num_versions?: number } }
  | { all: Record<string, never> };

export interface ModelConfigChange {
  /** The new policy; `null` removes it (TF Serving then serves the latest version); absent keeps it. */
  policy?: VersionPolicy | null;
  /** The complete new label → version map; `{}` removes every label; absent keeps them. */
  labels?: Record<string, Int64Input>;
}

/**
 * Changes one model's `model_version_policy` and `version_labels` in a models.config text and leaves every other
 * byte alone: comments, formatting, other models and the model's other fields. An unchanged policy keeps its
 * bytes; a changed one replaces only its block; unchanged labels keep their bytes, changed ones get a new value,
 * removed ones lose their line, new ones follow the last label (or the policy, or the model's last field).
 * The result is re-parsed and checked to differ from the input only in that model's policy and labels.
 */
export function editModelConfig(
  text: string,
  fileName: string,
  modelName: string,
  change: ModelConfigChange,
): string {
  const serverType = messageType(SERVER_CONFIG);
  const { message, tree } = parseTextFormatTree(text, serverType, fileName);
  const found = findModel(tree, modelName, fileName);
  const policy = change.policy === undefined ? undefined : canonicalPolicy(change.policy, modelName);
  const labels = change.labels === undefined ? undefined : canonicalLabels(change.labels, modelName);

  const editor = new ModelEditor(text, found);
  if (policy !== undefined) editor.setPolicy(policy);
  if (labels !== undefined) editor.setLabels(labels);
  if (editor.edits.length === 0) return text;
  const edited = applyEdits(text, editor.edits);

  verifyEdit(edited, fileName, modelName, expectedMessage(message, found.index, policy, labels));
  return edited;
}

interface FoundModel {
  node: MessageNode;
  /** Index in model_config_list.config. */
  index: number;
  /** The `config` field holding it (its `:` style is reused). */
  field: FieldNode;
}

function findModel(tree: MessageNode, modelName: string, fileName: string): FoundModel {
  const models: { node: MessageNode; field: FieldNode }[] = [];
  for (const list of tree.fields.filter((f) => f.name === "model_config_list")) {
    for (const value of list.values) {
      if (value.kind !== "message") continue;
      for (const config of value.fields.filter((f) => f.name === "config")) {
        for (const node of config.values) if (node.kind === "message") models.push({ node, field: config });
      }
    }
  }
  const matches = models.flatMap((m, index) => (m.node.value.name === modelName ? [{ ...m, index }] : []));
  if (matches.length === 1) return matches[0] as FoundModel;
  const names = models.map((m) => JSON.stringify(m.node.value.name ?? "")).join(", ");
  if (matches.length === 0) {
    throw new UsageError(`Model "${modelName}" is not in the model config list`, {
      where: fileName,
      hint: models.length
        ? `models in the file: ${names}`
        : "the file lists no models (no model_config_list.config)",
    });
  }
  throw new UsageError(`Model "${modelName}" is listed ${matches.length} times (TF Serving rejects that)`, {
    where: fileName,
    hint: "remove the duplicate config entries first",
  });
}

function canonicalPolicy(policy: VersionPolicy | null, modelName: string): Record<string, unknown> | null {
  if (policy === null) return null;
  const type = messageType(VERSION_POLICY);
  try {
    const canonical = parseTextFormat(printTextFormat(policy, type), type, "<policy>");
    if (Object.keys(canonical).length !== 1)
      throw new Error("exactly one of specific, latest or all is needed");
    return canonical;
  } catch (error) {
    const reason = error instanceof TextFormatError ? error.reason : (error as Error).message;
    throw new UsageError(`Invalid version policy for model "${modelName}": ${reason}`, {
      hint: 'use {specific: {versions: ["1", "2"]}}, {latest: {num_versions: 1}} or {all: {}}',
      cause: error,
    });
  }
}

function canonicalLabels(labels: Record<string, Int64Input>, modelName: string): Record<string, string> {
  const entries = Object.entries(labels).map(([label, version]): [string, string] => {
    let value: bigint | undefined;
    try {
      value = BigInt(typeof version === "string" ? version.trim() : version);
    } catch {
      value = undefined;
    }
    if (value === undefined || value < INT64_MIN || value > INT64_MAX || version === "") {
      throw new UsageError(
        `Invalid version ${JSON.stringify(String(version))} for label "${label}" of "${modelName}"`,
        {
          hint: "a label points to an integer version number (int64)",
        },
      );
    }
    return [label, value.toString()];
  });
  return Object.fromEntries(entries);
}

/** The original message with only the edited model's policy and labels replaced. */
function expectedMessage(
  message: Record<string, unknown>,
  index: number,
  policy: Record<string, unknown> | null | undefined,
  labels: Record<string, string> | undefined,
): Record<string, unknown> {
  const list = message.model_config_list as Record<string, unknown>;
  const configs = list.config as Record<string, unknown>[];
  const model = { ...configs[index] };
  if (policy === null) delete model.model_version_policy;
  else if (policy !== undefined) model.model_version_policy = policy;
  if (labels !== undefined) {
    if (Object.keys(labels).length === 0) delete model.version_labels;
    else model.version_labels = labels;
  }
  const config = configs.map((c, i) => (i === index ? model : c));
  return { ...message, model_config_list: { ...list, config } };
}

function verifyEdit(
  edited: string,
  fileName: string,
  modelName: string,
  expected: Record<string, unknown>,
): void {
  let actual: Record<string, unknown>;
  try {
    actual = parseTextFormat(edited, messageType(SERVER_CONFIG), fileName);
  } catch (error) {
    throw new RolloutError(`Internal error: editing model "${modelName}" produced text that does not parse`, {
      where: fileName,
      hint: "the file was not changed; please report this with the file",
      cause: error,
    });
  }
  if (!isDeepStrictEqual(actual, expected)) {
    throw new RolloutError(
      `Internal error: editing model "${modelName}" would change more than its policy and labels`,
      {
        where: fileName,
        hint: "the file was not changed; please report this with the file",
      },
    );
  }
}

interface LabelEntry {
  field: FieldNode;
  entry: MessageNode;
  key: string;
}

/** Where new fields go and how they are laid out there. */
interface Insertion {
  at: number;
  /** afterLine: `EOL indent field sep` each; beforeLine: `indent field sep EOL`; inline*: space-separated. */
  mode: "afterLine" | "beforeLine" | "inlineAfter" | "inlineBefore";
  /** The separator (`,`, `;` or none) used by the neighbouring field. */
  sep: string;
}

/** Collects the text edits for one model block, following the block's own layout. */
class ModelEditor {
  readonly edits: TextEdit[] = [];
  private readonly modelType = messageType(MODEL_CONFIG);
  private readonly model: MessageNode;
  private readonly eol: string;
  private readonly inline: boolean;
  private readonly fieldIndent: string;
  private readonly style: PrintStyle;
  private readonly removed = new Set<FieldNode>();
  private policyField: FieldNode | undefined;
  /** Where a newly added policy went: new labels go right after it. */
  private policyInsertion: Insertion | undefined;

  constructor(
    private readonly text: string,
    found: FoundModel,
  ) {
    const model = found.node;
    this.model = model;
    this.eol = eolOf(text);
    this.inline = !text.slice(model.start, model.end).includes("\n");
    const onOwnLine = model.fields.find((f) => startsLine(text, f.start));
    const modelIndent = lineIndent(text, model.start);
    this.fieldIndent = onOwnLine ? lineIndent(text, onOwnLine.start) : `${modelIndent}  `;
    const unit = this.fieldIndent.startsWith(modelIndent) ? this.fieldIndent.slice(modelIndent.length) : "";
    const blocks = model.fields.filter(
      (f) => f.name === "model_version_policy" || f.name === "version_labels",
    );
    this.style = {
      ...DEFAULT_PRINT_STYLE,
      indentUnit: unit || DEFAULT_PRINT_STYLE.indentUnit,
      messageColon: blocks.length > 0 ? blocks.every((f) => f.colon) : found.field.colon,
      inline: this.inline,
    };
    this.policyField = model.fields.find((f) => f.name === "model_version_policy");
  }

  setPolicy(policy: Record<string, unknown> | null): void {
    const existing = this.policyField;
    if (existing) {
      const current = existing.values[0]?.kind === "message" ? existing.values[0].value : undefined;
      if (policy !== null && isDeepStrictEqual(current, policy)) return;
      if (policy === null) {
        this.remove(existing);
        this.policyField = undefined;
      } else {
        this.replace(existing, "model_version_policy", policy);
      }
      return;
    }
    if (policy === null) return;
    const rendered = [this.render("model_version_policy", policy, this.fieldIndent, this.style)];
    const firstLabel = this.model.fields.find((f) => f.name === "version_labels");
    if (firstLabel) {
      const sep = separatorOf(this.text, firstLabel);
      const onOwnLine = !this.inline && startsLine(this.text, firstLabel.start);
      this.policyInsertion = onOwnLine
        ? { at: lineStart(this.text, firstLabel.start), mode: "beforeLine", sep }
        : { at: firstLabel.start, mode: "inlineBefore", sep };
    } else {
      this.policyInsertion = this.insertionAfter(this.lastKeptField());
    }
    this.insert(this.policyInsertion, rendered);
  }

  setLabels(labels: Record<string, string>): void {
    const entries: LabelEntry[] = [];
    for (const field of this.model.fields.filter((f) => f.name === "version_labels")) {
      const entry = field.values[0];
      if (field.list || entry?.kind !== "message") {
        // List syntax `version_labels: [{...}, {...}]`: rewritten as separate entries.
        this.remove(field);
        continue;
      }
      entries.push({ field, entry, key: String(entry.value.key ?? "") });
    }
    const lastByKey = new Map(entries.map((e) => [e.key, e]));
    for (const e of entries) {
      const wanted = Object.hasOwn(labels, e.key) ? labels[e.key] : undefined;
      if (wanted === undefined) this.remove(e.field);
      else if (lastByKey.get(e.key) === e && String(e.entry.value.value ?? "0") !== wanted)
        this.changeValue(e, wanted);
    }
    const added = Object.entries(labels).filter(([key]) => !lastByKey.has(key));
    if (added.length === 0) return;
    const rendered = added.map(([key, value]) =>
      this.render("version_labels", { [key]: value }, this.fieldIndent, this.style),
    );
    const anchor = entries.filter((e) => !this.removed.has(e.field)).at(-1)?.field ?? this.policyField;
    this.insert(
      anchor
        ? this.insertionAfter(anchor)
        : (this.policyInsertion ?? this.insertionAfter(this.lastKeptField())),
      rendered,
    );
  }

  private changeValue(e: LabelEntry, version: string): void {
    const valueField = e.entry.fields.filter((f) => f.name === "value").at(-1);
    const scalar = valueField?.values[0];
    if (valueField && !valueField.list && scalar?.kind === "scalar") {
      this.edits.push({ start: scalar.start, end: scalar.end, text: version });
    } else {
      // No `value:` written (version 0): rewrite the entry in the style it had.
      this.replace(e.field, "version_labels", { [e.key]: version });
    }
  }

  /** Replaces a field's text (not its separator) with a new value, keeping its `:` and one-line style. */
  private replace(field: FieldNode, name: string, value: unknown): void {
    const span = this.text.slice(field.start, field.end);
    const style = { ...this.style, messageColon: field.colon, inline: !span.includes("\n") };
    const text = this.render(name, value, lineIndent(this.text, field.start), style);
    this.edits.push({ start: field.start, end: field.end, text });
  }

  private remove(field: FieldNode): void {
    this.removed.add(field);
    this.edits.push({ ...removalRange(this.text, field.start, field.separatorEnd), text: "" });
  }

  private render(name: string, value: unknown, indent: string, style: PrintStyle): string {
    return printField(this.modelType, name, value, indent, style).replaceAll("\n", this.eol);
  }

  private lastKeptField(): FieldNode {
    // The model's name is never removed, so a field to anchor on always exists.
    return this.model.fields.filter((f) => !this.removed.has(f)).at(-1) as FieldNode;
  }

  /** After a field: on a new line, unless the block is one line or more text follows on the field's line. */
  private insertionAfter(field: FieldNode): Insertion {
    const sep = separatorOf(this.text, field);
    if (this.inline) return { at: field.separatorEnd, mode: "inlineAfter", sep };
    if (!endsLine(this.text, field.separatorEnd)) return { at: field.separatorEnd, mode: "afterLine", sep };
    return { at: lineEnd(this.text, field.separatorEnd), mode: "afterLine", sep };
  }

  private insert(where: Insertion, rendered: string[]): void {
    const { sep, mode } = where;
    const pieces = rendered.map((field) => {
      if (mode === "afterLine") return `${this.eol}${this.fieldIndent}${field}${sep}`;
      if (mode === "beforeLine") return `${this.fieldIndent}${field}${sep}${this.eol}`;
      if (mode === "inlineAfter") return ` ${field}${sep}`;
      return `${field}${sep} `;
    });
    this.edits.push({ start: where.at, end: where.at, text: pieces.join("") });
  }
}

/** The `,` or `;` written after a field, reused for fields inserted next to it. */
function separatorOf(text: string, field: FieldNode): string {
  return text.slice(field.end, field.separatorEnd);
}
