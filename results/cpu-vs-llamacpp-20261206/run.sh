#!/bin/bash
# lmrig against llama.cpp at the AVX-512-BF16 and AVX2 levels, alternating tool by tool, 2 threads.
# Inputs (nothing here downloads or builds llama.cpp):
#   LLAMA_BENCH     llama-bench of a GGML_NATIVE=ON build of the release node-llama-cpp@3.22.1 ships
#   LLAMA_AVX2_LIB  folder of that release's libggml-cpu.so built with GGML_NATIVE=OFF, AVX2/FMA/F16C
#   GGUF_05 GGUF_15 the synthetic qwen2.5-0.5b / qwen2.5-1.5b presets written as BF16 GGUF files
#   LMRIG_BENCH     lmrig's build/lmrig-bench; ROUNDS (default 3); OUT (output folder)
# Output: one file per run (OUT/rN-TOOL-SHAPE.txt) and OUT/log.txt with times and load.
set -u
out=$OUT
mkdir -p "$out"
for r in $(seq 1 "${ROUNDS:-3}"); do
  for shape in 0.5b 1.5b; do
    gguf=$GGUF_05
    [ "$shape" = 1.5b ] && gguf=$GGUF_15
    echo "== round $r $shape $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/log.txt"
    "$LLAMA_BENCH" -m "$gguf" -p 128,512 -n 32 -t 2 -r 3 -o md > "$out/r$r-llama-native-$shape.txt" 2>&1
    "$LMRIG_BENCH" --preset "qwen2.5-$shape" --threads 2 --prompts 128,512 --gen 32 --reps 3 \
      > "$out/r$r-lmrig-avx512-$shape.txt" 2>&1
    LD_LIBRARY_PATH=$LLAMA_AVX2_LIB "$LLAMA_BENCH" -m "$gguf" -p 128,512 -n 32 -t 2 -r 3 -o md \
      > "$out/r$r-llama-avx2-$shape.txt" 2>&1
    LMRIG_CPU_LEVEL=avx2 "$LMRIG_BENCH" --preset "qwen2.5-$shape" --threads 2 --prompts 128,512 \
      --gen 32 --reps 3 > "$out/r$r-lmrig-avx2-$shape.txt" 2>&1
    for f in llama-native lmrig-avx512 llama-avx2 lmrig-avx2; do
      grep -E '^\| qwen2|^pp|^tg' "$out/r$r-$f-$shape.txt" | sed "s/^/$f /" >> "$out/log.txt"
    done
  done
done
echo "== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/log.txt"
