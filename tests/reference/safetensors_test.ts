// Round trips through encodeSafetensors/decodeSafetensors, the exact 16-bit roundings, and
// rejection of malformed headers.

import assert from "node:assert/strict";
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from "./_float.ts";
import { decodeSafetensors } from "./decode_safetensors.ts";
import { encodeSafetensors } from "./encode_safetensors.ts";

Deno.test("safetensors round trip keeps names, order, shapes, metadata and values", () => {
  const values = [0, -0, 1, -2.5, 3.140625, 1e-3, 65504, -1e-7];
  const bytes = encodeSafetensors(
    {
      "b.weight": { dtype: "F32", shape: [2, 4], values },
      "a.weight": { dtype: "BF16", shape: [8], values },
      "c.bias": { dtype: "F16", shape: [4, 2], values },
    },
    { format: "pt", note: "x" },
  );
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0, "header padded to 8 bytes");
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: "pt", note: "x" });
  assert.deepEqual([...tensors.keys()], ["b.weight", "a.weight", "c.bias"]);
  assert.deepEqual(tensors.get("c.bias")!.shape, [4, 2]);
  assert.deepEqual([...tensors.get("b.weight")!.values], values.map(Math.fround));
  assert.deepEqual([...tensors.get("c.bias")!.values], values.map(Math.f16round));
  assert.deepEqual(
    [...tensors.get("a.weight")!.values],
    [0, -0, 1, -2.5, 3.140625, 0.00099945068359375, 65536, -1.0011717677116394e-7],
  );
});

Deno.test("bf16 and f16 encoding rounds to nearest even and round-trips all bit patterns", () => {
  const dv = new DataView(new ArrayBuffer(4));
  const bf16ViaF32 = (x: number): number => {
    dv.setFloat32(0, x);
    const u = dv.getUint32(0);
    return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff; // the usual f32 -> bf16 RNE
  };
  for (let i = 0; i < 20000; i++) {
    const x = Math.fround((Math.sin(i * 12.9898) * 43758.5453 % 1) * 2 ** ((i % 60) - 30));
    assert.equal(encodeBf16(x), bf16ViaF32(x), `bf16 of ${x}`);
    assert.equal(decodeF16(encodeF16(x)), Math.f16round(x), `f16 of ${x}`);
  }
  assert.equal(encodeBf16(1 + 2 ** -8), 0x3f80, "tie goes to even (down)");
  assert.equal(encodeBf16(1 + 3 * 2 ** -8), 0x3f82, "tie goes to even (up)");
  assert.equal(encodeF16(65520), 0x7c00, "f16 overflow to infinity");
  assert.equal(encodeF16(2 ** -25), 0, "f16 tie at half the smallest subnormal goes to zero");
  for (let bits = 0; bits < 65536; bits++) {
    const h = decodeF16(bits), b = decodeBf16(bits);
    if (!Number.isNaN(h)) assert.equal(encodeF16(h), bits);
    if (!Number.isNaN(b)) assert.equal(encodeBf16(b), bits);
  }
});

Deno.test("decodeSafetensors rejects offsets that do not match the shape", () => {
  const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], values: [1, 2] } });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1)), RangeError);
  const header = JSON.stringify({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } });
  const bad = new Uint8Array(8 + header.length + 8);
  new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
  bad.set(new TextEncoder().encode(header), 8);
  assert.throws(() => decodeSafetensors(bad), /shape \[3\]/);
});
