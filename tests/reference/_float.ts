// Bit-exact conversions between JS numbers and the 16-bit float formats of safetensors (private).
// Encoding rounds the f64 value directly to the target format, round-to-nearest-even, so no
// double rounding through f32 takes place.

/** A binary floating-point format: exponent and mantissa widths in bits. */
interface FloatFormat {
  exponentBits: number;
  mantissaBits: number;
}

const BF16: FloatFormat = { exponentBits: 8, mantissaBits: 7 };
const F16: FloatFormat = { exponentBits: 5, mantissaBits: 10 };

/** Rounds to the nearest integer, ties to even (exact for the scaled values used below). */
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Encodes x in a sign/exponent/mantissa format, RNE, overflow to infinity, subnormals kept. */
function encode(x: number, f: FloatFormat): number {
  const { exponentBits: eb, mantissaBits: mb } = f;
  const bias = 2 ** (eb - 1) - 1;
  const expAllOnes = 2 ** eb - 1;
  const signBit = x < 0 || Object.is(x, -0) ? 2 ** (eb + mb) : 0;
  if (Number.isNaN(x)) return (expAllOnes * 2 ** mb) | (2 ** (mb - 1));
  const a = Math.abs(x);
  if (a === Infinity) return signBit + expAllOnes * 2 ** mb;
  if (a === 0) return signBit;
  const minExp = 1 - bias;
  if (a < 2 ** minExp) {
    // Subnormal: units of 2^(minExp - mb); a carry into 2^mb is the smallest normal, as encoded.
    return signBit + roundHalfEven(a * 2 ** (mb - minExp));
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a * 2 ** (mb - e)); // in [2^mb, 2^(mb+1)]
  if (m === 2 ** (mb + 1)) {
    m = 2 ** mb;
    e++;
  }
  if (e > bias) return signBit + expAllOnes * 2 ** mb;
  return signBit + (e + bias) * 2 ** mb + (m - 2 ** mb);
}

/** Decodes the bits of a sign/exponent/mantissa format. */
function decode(bits: number, f: FloatFormat): number {
  const { exponentBits: eb, mantissaBits: mb } = f;
  const bias = 2 ** (eb - 1) - 1;
  const sign = bits & (2 ** (eb + mb)) ? -1 : 1;
  const exp = Math.floor(bits / 2 ** mb) & (2 ** eb - 1);
  const man = bits & (2 ** mb - 1);
  if (exp === 2 ** eb - 1) return man === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * man * 2 ** (1 - bias - mb);
  return sign * (2 ** mb + man) * 2 ** (exp - bias - mb);
}

/** Encodes a number as bfloat16 bits (round to nearest, ties to even). */
export function encodeBf16(x: number): number {
  return encode(x, BF16);
}

/** Decodes bfloat16 bits. */
export function decodeBf16(bits: number): number {
  return decode(bits, BF16);
}

/** Encodes a number as IEEE binary16 bits (round to nearest, ties to even). */
export function encodeF16(x: number): number {
  return encode(x, F16);
}

/** Decodes IEEE binary16 bits. */
export function decodeF16(bits: number): number {
  return decode(bits, F16);
}
