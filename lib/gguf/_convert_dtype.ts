/** Element conversions between the float formats a GGUF writer meets (little-endian bytes). */

/** Source/target element types by name. */
export type FloatType = "f32" | "f16" | "bf16";

/** Bytes per element. */
export const ELEMENT_BYTES: Record<FloatType, number> = { f32: 4, f16: 2, bf16: 2 };

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

function f32ToF16(x: number): number {
  f32buf[0] = x;
  const b = u32buf[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const ne = e - 127 + 15;
  if (ne >= 31) return sign | 0x7c00;
  if (ne <= 0) {
    if (ne < -10) return sign;
    const mm = m | 0x800000, shift = 14 - ne;
    let r = mm >>> shift;
    const rem = mm & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (ne << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++;
  return sign | r;
}

/**
 * Convert `n` elements from `src` (type `from`) to type `to`; exact when widening, round to
 * nearest even when narrowing.
 */
export function convertFloats(src: Uint8Array, from: FloatType, to: FloatType): Uint8Array {
  if (from === to) return src;
  const n = src.byteLength / ELEMENT_BYTES[from];
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const f = new Float32Array(n);
  const fu = new Uint32Array(f.buffer);
  if (from === "f32") { for (let i = 0; i < n; i++) f[i] = sv.getFloat32(i * 4, true); }
  else if (from === "bf16") { for (let i = 0; i < n; i++) fu[i] = sv.getUint16(i * 2, true) << 16; }
  else for (let i = 0; i < n; i++) f[i] = f16ToF32(sv.getUint16(i * 2, true));
  if (to === "f32") return new Uint8Array(f.buffer);
  const out = new Uint16Array(n);
  if (to === "bf16") {
    for (let i = 0; i < n; i++) {
      const b = fu[i];
      out[i] = ((b >>> 16) & 0x7f80) === 0x7f80 && (b & 0xffff) && (b & 0x7fffff)
        ? (b >>> 16) | 0x40
        : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  } else for (let i = 0; i < n; i++) out[i] = f32ToF16(f[i]);
  return new Uint8Array(out.buffer);
}
