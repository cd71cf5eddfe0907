#!/usr/bin/env python3
"""hf_parity.py: lmrig's logits against Hugging Face transformers (an FP32 torch reference).

Builds small Qwen2ForCausalLM and LlamaForCausalLM models with random weights (no download; one
with the Qwen2.5-1.5B attention shape: head_dim 128, 6 query heads per KV head), rounds the
weights to BF16, saves them with save_pretrained (safetensors) into a temporary folder, loads that folder in lmrig through ctypes on the CPU backend and (when a device is
present) the CUDA backend, and compares the logits of the last token after a prefill and after
each of 8 greedy decode steps with torch's (FP32 math on the same BF16-rounded weights).

Difference = max |lmrig - torch| / max |torch| over the vocabulary. Tolerances:
  cpu  (F32 KV, FP32 activations)                   2e-3
  cpu  at the AVX-512-BF16 level (prefill GEMM inputs rounded to BF16, as the kernel tests
       state; the level is the best the CPU has unless LMRIG_CPU_LEVEL caps it)   1e-2
  cuda (BF16 KV; prefill rounds activations to BF16) 3e-2
  cuda (F32 KV)                                      2e-2

  python3 scripts/hf_parity.py [--lib build-gpu/liblmrig.so] [--backends cpu,cuda]
Works with transformers 4.4x and 5.x (no deprecated arguments: see build()).
Exit status 0 when every comparison is within its tolerance (or torch is missing: SKIP), else 1.
"""
import argparse
import ctypes as C
import os
import sys
import tempfile

ABI_VERSION = 3
BACKEND = {"cpu": 1, "cuda": 2}
DTYPE = {"default": -1, "f32": 0, "f16": 1, "bf16": 2}


class EngineParams(C.Structure):
    _fields_ = [("size", C.c_uint32), ("backend", C.c_int32), ("n_threads", C.c_int32),
                ("device", C.c_int32), ("executor", C.c_int32), ("profile", C.c_int32)]


class ModelParams(C.Structure):
    _fields_ = [("size", C.c_uint32), ("dtype", C.c_int32), ("seed", C.c_uint64),
                ("n_layers", C.c_int32), ("reserved", C.c_int32)]


class SessionParams(C.Structure):
    _fields_ = [("size", C.c_uint32), ("max_seqs", C.c_int32), ("max_ctx", C.c_int32),
                ("kv_dtype", C.c_int32), ("prefill_chunk", C.c_int32),
                ("block_tokens", C.c_int32), ("kv_budget_bytes", C.c_uint64)]


def cpu_bf16_level():
    """True when the CPU backend will use its AVX-512-BF16 kernels (the CPU has avx512_bf16 and
    LMRIG_CPU_LEVEL does not cap the level below avx512)."""
    cap = os.environ.get("LMRIG_CPU_LEVEL", "")
    if cap in ("scalar", "avx2", "neon"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in f)
    except OSError:
        return False


def load_lib(path):
    if not os.path.exists(path):
        sys.exit(f"FAIL hf_parity: {path} not found (build first: scripts/gpu-check.sh)")
    lib = C.CDLL(path)
    lib.lmr_abi_version.restype = C.c_uint32
    if lib.lmr_abi_version() != ABI_VERSION:
        sys.exit(f"FAIL hf_parity: ABI {lib.lmr_abi_version()} != {ABI_VERSION} expected")
    lib.lmr_last_error.restype = C.c_char_p
    lib.lmr_last_error.argtypes = [C.c_void_p]
    lib.lmr_engine_params_default.restype = EngineParams
    lib.lmr_model_params_default.restype = ModelParams
    lib.lmr_session_params_default.restype = SessionParams
    lib.lmr_backend_available.argtypes = [C.c_int32]
    lib.lmr_engine_create.argtypes = [C.POINTER(EngineParams), C.POINTER(C.c_void_p)]
    lib.lmr_model_load.argtypes = [C.c_void_p, C.c_char_p, C.POINTER(ModelParams),
                                   C.POINTER(C.c_void_p)]
    lib.lmr_session_create.argtypes = [C.c_void_p, C.POINTER(SessionParams),
                                       C.POINTER(C.c_void_p)]
    lib.lmr_session_prefill.argtypes = [C.c_void_p, C.c_int32, C.POINTER(C.c_int32), C.c_int32]
    lib.lmr_session_decode.argtypes = [C.c_void_p, C.POINTER(C.c_int32), C.POINTER(C.c_int32),
                                       C.c_int32]
    lib.lmr_session_logits.argtypes = [C.c_void_p, C.c_int32, C.POINTER(C.c_float), C.c_int32]
    for f in ("lmr_session_destroy", "lmr_model_destroy", "lmr_engine_destroy"):
        getattr(lib, f).argtypes = [C.c_void_p]
    return lib


class Lmrig:
    """One engine + model + session on a backend; logits after prefill / decode."""

    def __init__(self, lib, folder, backend, kv_dtype, vocab):
        self.lib, self.vocab = lib, vocab
        self.e, self.m, self.s = C.c_void_p(), C.c_void_p(), C.c_void_p()
        ep = lib.lmr_engine_params_default()
        ep.backend = BACKEND[backend]
        self._check(lib.lmr_engine_create(C.byref(ep), C.byref(self.e)), None, "engine")
        mp = lib.lmr_model_params_default()
        self._check(lib.lmr_model_load(self.e, folder.encode(), C.byref(mp), C.byref(self.m)),
                    self.e, "model load")
        sp = lib.lmr_session_params_default()
        sp.max_ctx = 256
        sp.kv_dtype = DTYPE[kv_dtype]
        self._check(lib.lmr_session_create(self.m, C.byref(sp), C.byref(self.s)), self.e,
                    "session")

    def _check(self, st, e, what):
        if st != 0:
            msg = self.lib.lmr_last_error(e)
            raise RuntimeError(f"{what}: status {st}: {msg.decode() if msg else '?'}")

    def prefill(self, tokens):
        arr = (C.c_int32 * len(tokens))(*tokens)
        self._check(self.lib.lmr_session_prefill(self.s, 0, arr, len(tokens)), self.e, "prefill")
        return self.logits()

    def decode(self, token):
        seq, tok = (C.c_int32 * 1)(0), (C.c_int32 * 1)(token)
        self._check(self.lib.lmr_session_decode(self.s, seq, tok, 1), self.e, "decode")
        return self.logits()

    def logits(self):
        out = (C.c_float * self.vocab)()
        self._check(self.lib.lmr_session_logits(self.s, 0, out, self.vocab), self.e, "logits")
        return list(out)

    def close(self):
        self.lib.lmr_session_destroy(self.s)
        self.lib.lmr_model_destroy(self.m)
        self.lib.lmr_engine_destroy(self.e)


def rel(a, b):
    d = max(abs(x - y) for x, y in zip(a, b))
    return d / max(max(abs(y) for y in b), 1e-30)


def build(arch, folder, torch, transformers, shape):
    """A random-weight model of `shape` saved as BF16 safetensors; returns the FP32 reference.

    Written for transformers 4.4x and 5.x: the dtype is set by converting the model (no
    torch_dtype/dtype argument: renamed in 5), RoPE through rope_theta (5 stores it as
    rope_parameters in config.json, which lmrig reads too), eager attention chosen at
    construction (attn_implementation), save_pretrained writes safetensors by default in both."""
    hidden, heads, kv, ffn = shape
    common = dict(vocab_size=1000, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=2,
                  num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=512,
                  rms_norm_eps=1e-6, attn_implementation="eager")
    if arch == "qwen2":
        cfg = transformers.Qwen2Config(rope_theta=1e6, tie_word_embeddings=True, **common)
        model = transformers.Qwen2ForCausalLM(cfg)
    else:
        cfg = transformers.LlamaConfig(rope_theta=10000.0, tie_word_embeddings=False, **common)
        model = transformers.LlamaForCausalLM(cfg)
    with torch.no_grad():  # realistic scale: norms around 1, not exactly 1
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif "bias" in name:
                p.copy_(0.1 * torch.randn_like(p))
    model = model.to(torch.bfloat16)
    model.save_pretrained(folder)
    ref = model.to(torch.float32).eval()  # FP32 math on the BF16-rounded weights
    return ref, cfg.vocab_size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", default="build-gpu/liblmrig.so")
    ap.add_argument("--backends", default="cpu,cuda")
    args = ap.parse_args()
    try:
        import torch
        import transformers
    except Exception as ex:  # noqa: BLE001 - any import failure means: cannot run here
        print(f"SKIP hf_parity: torch/transformers not importable ({ex})")
        return 0
    torch.manual_seed(0)
    lib = load_lib(args.lib)
    runs = [("cpu", "f32", 1e-2 if cpu_bf16_level() else 2e-3)]
    if "cuda" in args.backends.split(","):
        if lib.lmr_backend_available(BACKEND["cuda"]):
            runs += [("cuda", "bf16", 3e-2), ("cuda", "f32", 2e-2)]
        else:
            print("note: CUDA backend unavailable in this library or machine; CPU only")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    failed = 0
    # (arch, (hidden, heads, kv heads, ffn)): head_dim 64 group 2; head_dim 128 group 6 (the
    # Qwen2.5-1.5B attention shape)
    for arch, shape in (("qwen2", (256, 4, 2, 512)), ("llama", (256, 4, 2, 512)),
                        ("qwen2", (768, 6, 1, 1024))):
        with tempfile.TemporaryDirectory() as folder:
            ref, vocab = build(arch, folder, torch, transformers, shape)
            arch_name = f"{arch} h{shape[0]}/{shape[1]}q{shape[2]}kv"
            g = torch.Generator().manual_seed(1)
            prompt = torch.randint(0, vocab, (24,), generator=g).tolist()
            for backend, kv, tol in runs:
                try:
                    eng = Lmrig(lib, folder, backend, kv, vocab)
                except RuntimeError as ex:
                    print(f"FAIL {arch_name} {backend}: {ex}")
                    failed += 1
                    continue
                seq, worst = list(prompt), 0.0
                got = eng.prefill(seq)
                for step in range(9):
                    with torch.no_grad():
                        want = ref(torch.tensor([seq])).logits[0, -1].tolist()
                    worst = max(worst, rel(got, want))
                    if step == 8:
                        break
                    nxt = max(range(vocab), key=lambda i: want[i])
                    seq.append(nxt)
                    got = eng.decode(nxt)
                eng.close()
                ok = worst <= tol
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {arch_name} {backend} KV {kv}: prefill + 8 decode "
                      f"steps, max rel diff {worst:.2e} <= {tol:.0e}")
    print(f"hf_parity: {'all within tolerance' if not failed else f'{failed} failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
