import protobuf from "protobufjs";

/**
 * What the text-format parser and printer need to know about a message type, derived by reflection from a
 * protobufjs Type. Map fields get a synthetic `key`/`value` entry message, as protobuf defines them.
 */
export interface MessageSpec {
  /** Without a leading dot, as protobuf prints it in errors: "tensorflow.serving.ModelConfig". */
  fullName: string;
  fields: Map<string, FieldSpec>;
  /** Fields in field-number order (the order protobuf's printer uses). */
  ordered: FieldSpec[];
  isAny: boolean;
  /** The protobufjs type (absent for map entries). */
  type?: protobuf.Type;
  isMapEntry: boolean;
}

export interface FieldSpec {
  name: string;
  id: number;
  /** protobuf scalar type name ("int64", "string", ...), or "message" / "enum". */
  kind: string;
  message?: MessageSpec | (() => MessageSpec);
  enumType?: protobuf.Enum;
  repeated: boolean;
  /** For map fields: the entry message (fields key = 1, value = 2). */
  mapEntry?: MessageSpec;
  oneof?: string;
  /** False for proto3 scalars without `optional`: their default value counts as "not set". */
  hasPresence: boolean;
}

const specs = new WeakMap<protobuf.Type, MessageSpec>();

export function messageSpec(type: protobuf.Type): MessageSpec {
  const cached = specs.get(type);
  if (cached) return cached;
  const spec: MessageSpec = {
    fullName: stripDot(type.fullName),
    fields: new Map(),
    ordered: [],
    isAny: stripDot(type.fullName) === "google.protobuf.Any",
    type,
    isMapEntry: false,
  };
  specs.set(type, spec);
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    field.resolve();
    const fieldSpec =
      field instanceof protobuf.MapField ? mapFieldSpec(spec.fullName, field) : plainFieldSpec(field);
    spec.fields.set(field.name, fieldSpec);
    spec.ordered.push(fieldSpec);
  }
  return spec;
}

/** Resolves the (possibly lazily built, for recursive types) message spec of a message-typed field. */
export function fieldMessage(field: FieldSpec): MessageSpec {
  const m = field.message;
  if (!m) throw new Error(`field ${field.name} is not a message field`);
  return typeof m === "function" ? m() : m;
}

function plainFieldSpec(field: protobuf.Field): FieldSpec {
  const resolved = field.resolvedType;
  const base = {
    name: field.name,
    id: field.id,
    repeated: field.repeated,
    ...(field.partOf ? { oneof: field.partOf.name } : {}),
  };
  if (resolved instanceof protobuf.Type) {
    return { ...base, kind: "message", message: () => messageSpec(resolved), hasPresence: !field.repeated };
  }
  if (resolved instanceof protobuf.Enum) {
    return { ...base, kind: "enum", enumType: resolved, hasPresence: hasPresence(field) };
  }
  return { ...base, kind: field.type, hasPresence: hasPresence(field) };
}

function hasPresence(field: protobuf.Field): boolean {
  if (field.repeated) return false;
  return Boolean((field as unknown as { hasPresence?: boolean }).hasPresence ?? field.partOf);
}

function mapFieldSpec(ownerName: string, field: protobuf.MapField): FieldSpec {
  const entryName = field.name.replace(/(?:^|_)([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) + "Entry";
  const key: FieldSpec = { name: "key", id: 1, kind: field.keyType, repeated: false, hasPresence: true };
  const resolved = field.resolvedType;
  const value: FieldSpec =
    resolved instanceof protobuf.Type
      ? {
          name: "value",
          id: 2,
          kind: "message",
          message: () => messageSpec(resolved),
          repeated: false,
          hasPresence: true,
        }
      : resolved instanceof protobuf.Enum
        ? { name: "value", id: 2, kind: "enum", enumType: resolved, repeated: false, hasPresence: true }
        : { name: "value", id: 2, kind: field.type, repeated: false, hasPresence: true };
  const entry: MessageSpec = {
    fullName: `${ownerName}.${entryName}`,
    fields: new Map([
      ["key", key],
      ["value", value],
    ]),
    ordered: [key, value],
    isAny: false,
    isMapEntry: true,
  };
  return {
    name: field.name,
    id: field.id,
    kind: "message",
    message: entry,
    mapEntry: entry,
    repeated: true,
    hasPresence: false,
  };
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}
