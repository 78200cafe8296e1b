import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from "yaml";

/** The daemon config file as parsed YAML: its plain value and a way back from a key path to FILE:LINE:COL. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** FILE:LINE:COL of the value at path (or of its key, with `key: true`), or of the nearest enclosing node. */
  locate(path: readonly PropertyKey[], options?: { key?: boolean }): string;
}

export interface YamlSyntaxProblem {
  where: string;
  message: string;
}

export function parseYamlSource(file: string, text: string): YamlSource | { errors: YamlSyntaxProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0)
    return { errors: doc.errors.map((error) => ({ where: at(error.pos[0]), message: error.message })) };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    // An alias without its anchor (`*a`) or an alias bomb: the yaml library throws instead of reporting it.
    return { errors: [{ where: at(aliasOffset(doc) ?? 0), message: (error as Error).message }] };
  }
  return {
    file,
    value,
    locate(path, options = {}) {
      const range = rangeOf(doc, path, options.key ?? false);
      return range ? at(range[0]) : `${file}:1:1`;
    },
  };
}

/** Where the first alias that names no anchor is, if any. */
function aliasOffset(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) === undefined) {
        offset = node.range?.[0];
        return visit.BREAK;
      }
    },
  });
  return offset;
}

type Range = [number, number, number];

function rangeOf(doc: Document, path: readonly PropertyKey[], wantKey: boolean): Range | undefined {
  let node = resolve(doc, doc.contents as Node | null);
  let range: Range | undefined = node?.range ?? undefined;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segment);
      if (!pair) return range;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (last && wantKey && keyRange) return keyRange;
      node = resolve(doc, pair.value as Node | null);
      range = node?.range ?? keyRange ?? range;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) return range;
      node = resolve(doc, item);
      range = node?.range ?? range;
    } else return range;
  }
  return range;
}

function resolve(doc: Document, node: Node | null | undefined): Node | undefined {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? undefined;
  return node ?? undefined;
}
