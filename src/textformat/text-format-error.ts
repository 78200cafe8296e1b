import { UsageError } from "../errors.js";

/** A text-format syntax or type error, located like protobuf reports it: `FILE:LINE:COL: message` (1-based). */
export class TextFormatError extends UsageError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The bare protobuf-style message, without the location prefix. */
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string, hint?: string) {
    super(`${file}:${line}:${column}: ${reason}`, {
      where: `${file}:${line}:${column}`,
      hint: hint ?? "fix the protobuf text format at that position (TF Serving rejects the whole file)",
    });
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }

  // The message already carries the location, so do not repeat `where` in front of it.
  override describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}
