// Whether stable's clients can keep calling the candidate: its serving inputs (names, dtypes, ranks, known
// sizes) must match stable's. Breaking: a removed or renamed input, a dtype or rank change, a known size that
// changes or becomes fixed, an added input without a `defaults` entry (stable's clients don't send it), a
// removed output, an output dtype/rank/known-size change. Fine: added outputs, an added input with a default,
// a dimension or rank that becomes unknown on an input (it accepts more than before).
import type { SignatureChange } from "./gate-result.js";
import type { GateSignature, TensorSpec } from "./gate-signature.js";

type Side = "input" | "output";

function shapeText(shape: readonly number[] | null): string {
  return shape === null ? "unknown rank" : `[${shape.join(", ")}]`;
}

function sameSpec(a: TensorSpec, b: TensorSpec): boolean {
  return a.dtype === b.dtype && shapeText(a.shape) === shapeText(b.shape);
}

/** dtype, rank and size changes of one alias present on both sides. */
function specChanges(
  signature: string,
  side: Side,
  alias: string,
  stable: TensorSpec,
  candidate: TensorSpec,
): SignatureChange[] {
  const changes: SignatureChange[] = [];
  const at = `${side} "${alias}"`;
  if (stable.dtype !== candidate.dtype)
    changes.push({
      kind: `${side}-dtype`,
      signature,
      alias,
      breaking: true,
      detail: `${at} dtype ${stable.dtype} → ${candidate.dtype}`,
    });
  const was = stable.shape;
  const now = candidate.shape;
  const shapes = `${shapeText(was)} → ${shapeText(now)}`;
  if (was === null || now === null) {
    if (was !== now) {
      // An input that now accepts any rank keeps old clients working; anything else changes the contract.
      const breaking = !(side === "input" && now === null);
      changes.push({ kind: `${side}-rank`, signature, alias, breaking, detail: `${at} shape ${shapes}` });
    }
    return changes;
  }
  if (was.length !== now.length) {
    changes.push({
      kind: `${side}-rank`,
      signature,
      alias,
      breaking: true,
      detail: `${at} rank change ${shapes}`,
    });
    return changes;
  }
  const sizeChanges = was
    .map((size, axis) => [size, now[axis]!, axis] as const)
    .filter(([before, after]) => before !== after);
  if (sizeChanges.length > 0) {
    // Breaking when a known size changes or an unknown one becomes fixed; for inputs, becoming unknown is fine.
    const breaking = sizeChanges.some(([before, after]) => (side === "input" ? after >= 0 : before >= 0));
    changes.push({ kind: `${side}-shape`, signature, alias, breaking, detail: `${at} shape ${shapes}` });
  }
  return changes;
}

function sideChanges(
  signature: string,
  side: Side,
  stable: Record<string, TensorSpec>,
  candidate: Record<string, TensorSpec>,
  candidateDefaults: readonly string[],
): SignatureChange[] {
  const changes: SignatureChange[] = [];
  const removed = Object.keys(stable).filter((a) => !(a in candidate));
  const added = Object.keys(candidate).filter((a) => !(a in stable));
  for (const alias of Object.keys(stable)
    .filter((a) => a in candidate)
    .sort())
    changes.push(...specChanges(signature, side, alias, stable[alias]!, candidate[alias]!));
  // One removed and one added alias with the same dtype and shape: most likely a rename.
  if (removed.length === 1 && added.length === 1 && sameSpec(stable[removed[0]!]!, candidate[added[0]!]!)) {
    const [from, to] = [removed[0]!, added[0]!];
    changes.push({
      kind: `${side}-renamed`,
      signature,
      alias: to,
      breaking: true,
      detail: `${side} "${from}" renamed to "${to}" (${candidate[to]!.dtype} ${shapeText(candidate[to]!.shape)})`,
    });
    return changes;
  }
  for (const alias of removed.sort())
    changes.push({
      kind: `${side}-removed`,
      signature,
      alias,
      breaking: true,
      detail: `${side} "${alias}" (${stable[alias]!.dtype} ${shapeText(stable[alias]!.shape)}) removed`,
    });
  for (const alias of added.sort()) {
    const spec = `${candidate[alias]!.dtype} ${shapeText(candidate[alias]!.shape)}`;
    if (side === "output") {
      changes.push({
        kind: "output-added",
        signature,
        alias,
        breaking: false,
        detail: `output "${alias}" (${spec}) added`,
      });
    } else {
      const hasDefault = candidateDefaults.includes(alias);
      changes.push({
        kind: "input-added",
        signature,
        alias,
        breaking: !hasDefault,
        detail: hasDefault
          ? `input "${alias}" (${spec}) added, with a default value`
          : `input "${alias}" (${spec}) added without a default: stable's clients do not send it`,
      });
    }
  }
  return changes;
}

/** Every difference between stable's and the candidate's signature `name` (absent = the signature is gone). */
export function compareSignatures(
  name: string,
  stable: GateSignature,
  candidate: GateSignature | undefined,
): SignatureChange[] {
  if (candidate === undefined)
    return [
      { kind: "signature-removed", signature: name, breaking: true, detail: `signature "${name}" removed` },
    ];
  return [
    ...sideChanges(name, "input", stable.inputs, candidate.inputs, candidate.defaults),
    ...sideChanges(name, "output", stable.outputs, candidate.outputs, []),
  ];
}
