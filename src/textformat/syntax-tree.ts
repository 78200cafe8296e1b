/**
 * The syntax tree of a parsed text-format message, with source offsets (string indices) so an editor can replace
 * exactly the bytes of one field or value and leave everything else alone.
 */

export interface ScalarNode {
  kind: "scalar";
  /** From the first token of the value (a leading `-` included) to the end of the last one (adjacent strings). */
  start: number;
  end: number;
  /** The value in canonical form (int64 as decimal string, enum as name, bytes as Buffer). */
  value: unknown;
}

export interface MessageNode {
  kind: "message";
  /** Offset of the opening `{`/`<` (0 for the root). */
  start: number;
  /** Offset just after the closing `}`/`>` (text length for the root). */
  end: number;
  /** Full protobuf name of the message type, without a leading dot (map entries: `Outer.FooEntry`). */
  typeName: string;
  fields: FieldNode[];
  /** The canonical plain object of this message. */
  value: Record<string, unknown>;
}

export type ValueNode = ScalarNode | MessageNode;

export interface FieldNode {
  /** The field name as written, or `[type.googleapis.com/pkg.Msg]` for an expanded Any. */
  name: string;
  /** Offset of the field name (or `[`). */
  start: number;
  /** Whether a `:` follows the name. */
  colon: boolean;
  /** Whether the value uses list syntax `[a, b]`. */
  list: boolean;
  /** One value, or each element of a list (none for `[]`). */
  values: ValueNode[];
  /** Offset just after the value (the closing `]` for lists), before any `,`/`;` separator. */
  end: number;
  /** Offset just after the optional `,`/`;` separator (equal to end without one). */
  separatorEnd: number;
}
