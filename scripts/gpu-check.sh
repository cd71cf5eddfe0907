#!/usr/bin/env bash
# gpu-check.sh: what a session with an NVIDIA GPU runs from the repository root, in one command
# or in steps (the device tool allows 10 minutes per command; build outputs stay between calls).
#
#   scripts/gpu-check.sh                       # all steps: device build tests parity bench deno hf
#   scripts/gpu-check.sh build tests parity    # ~3-4 min on an H100 machine (16 cores)
#   scripts/gpu-check.sh bench                 # Qwen2.5-1.5B figures (~3-5 min)
#   scripts/gpu-check.sh deno                  # `deno task bench` on cuda/graph -> result record
#   scripts/gpu-check.sh carry                 # (dev machine) pack .carry/ for the deno step
#   CUDA_ARCH="80;90" BUILD=build-x PRESET=qwen2.5-0.5b scripts/gpu-check.sh ...
#
# Each step's output goes to $OUT/<step>.log (OUT: the device tool's output folder when set, else
# build-gpu/check-out), the figures of `bench` also to $OUT/bench.txt, the deno result record to
# $OUT/s1-s6-cuda-graph.json; the last lines are a PASS/FAIL/SKIP summary per step and the exit
# status is 1 when a step failed.
#
# The GPU machine has no deno and no network: `carry` (run here) writes .carry/deno.xz (the
# deno binary) and .carry/node_modules.tar.xz (node_modules + deno.lock, enough to run offline),
# about 50 MB together; pass carry=[".carry"] to the device tool for the `deno` step, which
# unpacks them under /tmp and points LMRIG_LIB at this build's library.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}
ARCH=${CUDA_ARCH:-90}
PRESET=${PRESET:-qwen2.5-1.5b}
OUT=${OUT:-$BUILD/check-out}
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(device build tests parity bench deno hf)
mkdir -p "$OUT"
SUMMARY=()
FAILED=0

# record STEP STATUS [note]
record() {
  SUMMARY+=("$(printf '%-5s %-8s %s' "$2" "$1" "${3:-}")")
  [ "$2" = FAIL ] && FAILED=1
  return 0
}

step_carry() {
  mkdir -p .carry
  local deno_bin
  deno_bin=$(readlink -f "$(command -v deno)") || { echo "deno not found"; return 1; }
  xz -T0 -6 -c "$deno_bin" > .carry/deno.xz.tmp && mv .carry/deno.xz.tmp .carry/deno.xz || return 1
  [ -d node_modules ] || deno install || return 1
  tar -cf - node_modules deno.lock | xz -T0 -6 > .carry/node_modules.tar.xz.tmp &&
    mv .carry/node_modules.tar.xz.tmp .carry/node_modules.tar.xz || return 1
  du -ch .carry/deno.xz .carry/node_modules.tar.xz
}

step_device() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
    --format=csv || { echo "nvidia-smi not found or failed"; return 1; }
  nvcc --version | tail -2
}

step_build() {
  cmake -S native -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLMR_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$ARCH" >/dev/null || return 1
  cmake --build "$BUILD" -j "$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking)'
  return "${PIPESTATUS[0]}"
}

step_tests() {
  (cd "$BUILD" && ctest --output-on-failure -j 8 -E cuda_parity_test)
}

step_parity() {
  local out st
  out=$("$BUILD/cuda_parity_test" 2>&1); st=$?
  echo "$out"
  if grep -q '^SKIP' <<<"$out"; then # (not echo | grep -q: SIGPIPE under pipefail)
    echo "cuda_parity_test skipped: no usable CUDA device"
    return 1
  fi
  echo "-- failures:"; grep '^FAIL' <<<"$out" || echo "(none)"
  return $st
}

step_bench() {
  "$BUILD/cuda_bench_test" --preset "$PRESET" | tee "$OUT/bench.txt"
  return "${PIPESTATUS[0]}"
}

step_deno() {
  local deno=deno
  if ! command -v deno >/dev/null; then
    [ -f .carry/deno.xz ] && [ -f .carry/node_modules.tar.xz ] || {
      echo "no deno and no .carry/ (run 'scripts/gpu-check.sh carry' on the dev machine and" \
        "pass carry=[\".carry\"])"
      return 2
    }
    mkdir -p /tmp/lmrig-deno && xz -dc .carry/deno.xz > /tmp/lmrig-deno/deno &&
      chmod +x /tmp/lmrig-deno/deno || return 1
    [ -d node_modules ] || tar -xJf .carry/node_modules.tar.xz || return 1
    deno=/tmp/lmrig-deno/deno
  fi
  LMRIG_LIB="$PWD/$BUILD/liblmrig.so" DENO_NO_UPDATE_CHECK=1 "$deno" task bench \
    --backend cuda --executor graph --model "synthetic:$PRESET" --quick \
    --out "$OUT/s1-s6-cuda-graph.json"
}

step_hf() {
  python3 -c 'import torch, transformers' 2>/dev/null || {
    echo "torch/transformers not installed"; return 2; }
  python3 scripts/hf_parity.py --lib "$BUILD/liblmrig.so"
}

for s in "${STEPS[@]}"; do
  case $s in
    carry|device|build|tests|parity|bench|deno|hf) ;;
    *) echo "unknown step '$s' (carry device build tests parity bench deno hf)"; exit 2 ;;
  esac
done
for s in "${STEPS[@]}"; do
  echo "== $s"
  t0=$(date +%s)
  "step_$s" > >(tee "$OUT/$s.log") 2>&1
  st=$?
  dt=$(( $(date +%s) - t0 ))
  case $st in
    0) record "$s" PASS "${dt}s" ;;
    2) record "$s" SKIP "${dt}s: $(tail -1 "$OUT/$s.log")" ;;
    *) record "$s" FAIL "${dt}s (exit $st; log $OUT/$s.log)" ;;
  esac
  # a failed build makes the later steps meaningless
  [ "$s" = build ] && [ $st -ne 0 ] && break
done
sleep 0.2 # let tee finish
echo "== summary (logs in $OUT)"
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
exit $FAILED
