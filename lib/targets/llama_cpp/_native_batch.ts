/**
 * A llama_batch whose arrays live in native memory (llama_batch_init's malloc) until freed, with
 * typed-array views onto them: nothing llama_decode reads sits on the JS heap, and the views
 * write straight into what it reads (llama_batch_get_one would keep a pointer into JS memory).
 */
import type { LlamaLibrary } from "./load_llama.ts";

/** The batch struct (passed by value) and views of its arrays. */
export interface NativeBatch {
  /** The llama_batch struct bytes; n_tokens is set per call. */
  struct: Uint8Array<ArrayBuffer>;
  capacity: number;
  token: Int32Array;
  pos: Int32Array;
  /** seqId[i][0]: the one sequence id of token i. */
  seqId: Int32Array[];
  /** Output flag per token (1: compute its logits). */
  logits: Int8Array;
  free(): void;
}

/** Allocate a batch of `capacity` tokens, one sequence id per token. */
export function nativeBatch(lib: LlamaLibrary, capacity: number): NativeBatch {
  const sym = lib.symbols;
  const struct = sym.llama_batch_init(capacity, 0, 1) as Uint8Array<ArrayBuffer>;
  const b = lib.release.batch.read(struct) as Record<string, bigint>;
  const view = (p: bigint, bytes: number) =>
    Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(p)!, bytes);
  const seqPtrs = new BigUint64Array(view(b.seq_id, capacity * 8));
  new Int32Array(view(b.n_seq_id, capacity * 4)).fill(1);
  let freed = false;
  return {
    struct,
    capacity,
    token: new Int32Array(view(b.token, capacity * 4)),
    pos: new Int32Array(view(b.pos, capacity * 4)),
    seqId: Array.from({ length: capacity }, (_, i) => new Int32Array(view(seqPtrs[i], 4))),
    logits: new Int8Array(view(b.logits, capacity)),
    free() {
      if (freed) return;
      freed = true;
      sym.llama_batch_free(struct);
    },
  };
}
