// IEEE 754 binary16 (DT_HALF) and bfloat16 (DT_BFLOAT16) conversions. Node 20 has no Math.f16round or
// DataView.getFloat16, and both formats are a few lines of bit arithmetic, so they are written here and checked
// exhaustively (all 65,536 patterns) in test/half.test.ts instead of adding a dependency.

const scratch = new DataView(new ArrayBuffer(4));

export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Nearest binary16 pattern (round half to even, like TF's Eigen::half), overflow to ±Inf, NaN → 0x7E00. */
export function numberToHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // 65520 is halfway between the largest half (65504) and the next step (65536), which rounds to even: Inf.
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundHalfToEven(magnitude * 2 ** 24);
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent--;
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  const fraction = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  // A fraction that rounds up to 1024 carries into the exponent, which is exactly the right next pattern.
  return sign | (((exponent + 15) << 10) + fraction);
}

export function bfloat16BitsToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}

/** Nearest bfloat16 pattern of the float32 nearest to `value` (TF rounds float32 → bfloat16 half to even). */
export function numberToBfloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
