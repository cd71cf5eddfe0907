/** Private helpers shared by the wrapper classes: out-pointers and C strings. */

/** A one-slot buffer for a `T **out` parameter. */
export function outPointer(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

/** The pointer a call wrote into an out-pointer slot. */
export function readPointer(slot: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(slot[0]);
}

/** A NUL-terminated UTF-8 copy of `s` for a `const char *` parameter. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Throw when a handle was closed. */
export function assertOpen(
  ptr: Deno.PointerValue,
  what: string,
): asserts ptr is Deno.PointerObject {
  if (ptr === null) throw new TypeError(`Cannot use ${what}: it is closed`);
}

/** Throw unless v is an integer in [min, max]. */
export function checkInt(name: string, v: number, min: number, max = 2 ** 31 - 1): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}
