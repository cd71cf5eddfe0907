#!/usr/bin/env bash
# gpu-check.sh: the one command of a session with an NVIDIA GPU, from the repository root. It
# fits one 9-minute call of the device tool (BUDGET seconds, default 540): steps run in order,
# each under a timeout, and a step whose estimate no longer fits the time left is SKIP.
#
#   scripts/gpu-check.sh            # device build parity hf bench memcheck deno
#   scripts/gpu-check.sh ptxas      # (any machine with nvcc) register/shared-memory report
#   scripts/gpu-check.sh carry      # (dev machine) pack .carry/ for the deno step
#   scripts/gpu-check.sh bench      # one step (the build must exist: build-gpu)
#   CUDA_ARCH=80 BUDGET=600 PRESET=qwen2.5-0.5b scripts/gpu-check.sh ...
#
# Steps: device (nvidia-smi, nvcc), build (sm_$CUDA_ARCH, ptxas -v report in build.log),
# parity (cuda_parity_test: kernels, models incl. the Qwen2.5-1.5B shape, graph == eager;
# cuda_quant_test: the quantised GEMV and dequantisation; cuda_gguf_test: quantised GGUF files
# vs the CPU backend),
# hf (scripts/hf_parity.py against transformers), bench (cuda_bench_test --preset $PRESET:
# bandwidth, batch-1 step vs the limit, kernels per step, position 32640, batches 8-64, TTFT,
# energy; kernel variants), kernels (cuda_bench_test --kernels: per-kernel times per step), memcheck (compute-sanitizer on cuda_parity_test --quick), deno (S1-S6 record, only
# when time is left), tests (ctest, not in the default list: the CPU machine runs it).
# Everything goes to $OUT (build-gpu/check-out by default). When DEST is set (the device tool's
# output folder, which returns at most 8 files), the logs are packed at the end into
# DEST/gpu-check-logs.tar.gz beside copies of summary.txt, bench.txt, ptxas.txt and the record:
# <step>.log, bench.txt, s1-s6-cuda-graph.json, summary.txt. After the steps, the first failed
# correctness step (parity, hf, memcheck, bench) is rerun with CUDA_LAUNCH_BLOCKING=1 (when
# time is left) and its first FAIL line printed (rerun.log). The last lines are one
# PASS/FAIL/SKIP line per step; the exit status is 1 when a step failed.
#
# The GPU machine has no deno and no network: `carry` (on the dev machine) writes .carry/deno.xz
# and .carry/node_modules.tar.xz (46 MB measured; the tool carries 64 MiB at most); pass carry=[".carry"] to the device tool.
set -uo pipefail
cd "$(dirname "$0")/.."
T_START=$(date +%s)
BUDGET=${BUDGET:-540}
BUILD=${BUILD:-build-gpu}
ARCH=${CUDA_ARCH:-90}
PRESET=${PRESET:-qwen2.5-1.5b}
# The device tool sets OUT to its output folder: keep the many logs elsewhere and pack them there.
if [ -n "${OUT:-}" ] && [ -z "${DEST:-}" ]; then DEST=$OUT; OUT=/tmp/gpu-check-out; fi
OUT=${OUT:-$BUILD/check-out}
DEST=${DEST:-}
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(device build parity hf bench kernels memcheck deno)
mkdir -p "$OUT"
SUMMARY=()
FAILED=0
FIRST_FAIL=""

# Seconds each step may take at most (its timeout) and needs at least to be worth starting.
declare -A LIMIT=([device]=30 [build]=240 [parity]=200 [hf]=120 [bench]=180 [kernels]=90 [memcheck]=120
  [deno]=300 [tests]=180 [ptxas]=1800 [carry]=1800)
declare -A NEED=([device]=5 [build]=60 [parity]=60 [hf]=40 [bench]=90 [kernels]=20 [memcheck]=60 [deno]=120
  [tests]=60 [ptxas]=30 [carry]=10)

left() { echo $((BUDGET - ($(date +%s) - T_START))); }

# record STEP STATUS [note]
record() {
  SUMMARY+=("$(printf '%-5s %-8s %s' "$2" "$1" "${3:-}")")
  if [ "$2" = FAIL ]; then
    FAILED=1
    [ -z "$FIRST_FAIL" ] && FIRST_FAIL=$1
  fi
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
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit \
    --format=csv || { echo "nvidia-smi not found or failed"; return 1; }
  nvidia-smi -q -d CLOCK,POWER | grep -E 'Graphics|Memory|Power Draw|Power Limit' | head -12
  command -v nvcc >/dev/null && nvcc --version | tail -2
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers",
    transformers.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1
  command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null ||
    echo "compute-sanitizer not found"
  return 0
}

step_build() {
  cmake -S native -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLMR_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$ARCH" "-DCMAKE_CUDA_FLAGS=--ptxas-options=-v" >/dev/null || return 1
  # ptxas -v lines go to build.log; the console shows warnings, errors and the spill summary
  cmake --build "$BUILD" -j "$(nproc)" > "$OUT/build-full.log" 2>&1
  local st=$?
  grep -E 'warning|error' "$OUT/build-full.log" | grep -v 'ptxas info' | head -40
  ptxas_summary "$OUT/build-full.log"
  return $st
}

# Kernel, registers, static shared memory, spills from ptxas -v output (file $1) -> ptxas.txt.
ptxas_summary() {
  python3 - "$1" > "$OUT/ptxas.txt" <<'PY'
import re, subprocess, sys
rows, cur = set(), None
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Compiling entry function '([^']+)' for '(sm_\d+)'", line)
    if m:
        cur, spill = m.groups(), "?"
        continue
    m = re.search(r"(\d+) bytes spill stores", line)
    if m and cur:
        spill = m.group(1)
    m = re.search(r"Used (\d+) registers", line)
    if m and cur:
        smem = re.search(r"(\d+) bytes smem", line)
        rows.add((cur[1], int(m.group(1)), int(smem.group(1)) if smem else 0, spill, cur[0]))
        cur = None
names = [r[4] for r in rows]
try:
    dem = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
except OSError:
    dem = names
dem = dict(zip(names, dem))
for a, regs, smem, spill, k in sorted(rows):
    print(f"{a:6} {regs:4} regs {smem:6} B smem {spill:>4} B spilled  {dem.get(k, k)}")
PY
  echo "ptxas: $(wc -l < "$OUT/ptxas.txt") kernels x archs, $(awk '$7 != "0"' "$OUT/ptxas.txt" | wc -l) with spills ($OUT/ptxas.txt)"
  awk '$7 != "0"' "$OUT/ptxas.txt" | head -5
}

# Any machine with nvcc: the ptxas report of every .cu for sm_80/86/89/90, no GPU needed.
step_ptxas() {
  local f a log="$OUT/ptxas-full.log"
  : > "$log"
  for f in native/src/cuda/*.cu; do
    for a in ${PTXAS_ARCHS:-80 86 89 90}; do
      nvcc -std=c++17 -O3 "-arch=sm_$a" -Inative/include -Inative/src -DLMR_HAVE_CUDA=1 \
        -Xptxas -v -c "$f" -o /dev/null >> "$log" 2>&1 || { echo "nvcc failed on $f sm_$a"; return 1; }
    done
  done
  grep -E 'warning' "$log" | grep -v 'ptxas info' | head -20
  ptxas_summary "$log"
  cat "$OUT/ptxas.txt"
}

step_tests() {
  (cd "$BUILD" && ctest --output-on-failure -j 8 -E 'cuda_parity_test|cuda_bench_test')
}

step_parity() {
  local out st t rc=0
  # the BF16 model and kernel parity, then the quantised kernels and quantised GGUF models
  for t in cuda_parity_test cuda_quant_test cuda_gguf_test; do
    echo "-- $t"
    out=$("$BUILD/$t" 2>&1); st=$?
    echo "$out"
    if [ $st -eq 77 ] || grep -q '^SKIP cuda' <<<"$out"; then
      echo "$t skipped: no usable CUDA device"
      return 1
    fi
    echo "-- failures of $t:"; grep '^FAIL' <<<"$out" || echo "(none)"
    # the rerun with CUDA_LAUNCH_BLOCKING=1 takes the first test that failed
    [ $st -eq 0 ] || { [ $rc -ne 0 ] || echo "$t" > "$OUT/parity-failed"; rc=$st; }
  done
  return $rc
}

step_hf() {
  python3 -c 'import torch, transformers' 2>/dev/null || {
    echo "torch/transformers not installed"; return 2; }
  # the CPU's FP32 path (2e-3) first, then the CUDA backend and the CPU's best level
  LMRIG_CPU_LEVEL=avx2 python3 scripts/hf_parity.py --lib "$BUILD/liblmrig.so" --backends cpu &&
    python3 scripts/hf_parity.py --lib "$BUILD/liblmrig.so"
}

step_bench() {
  "$BUILD/cuda_bench_test" --preset "$PRESET" | tee "$OUT/bench.txt"
  return "${PIPESTATUS[0]}"
}

step_kernels() {
  "$BUILD/cuda_bench_test" --preset "$PRESET" --kernels | tee "$OUT/kernels.txt"
  return "${PIPESTATUS[0]}"
}

step_memcheck() {
  local cs
  cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  [ -x "$cs" ] || { echo "compute-sanitizer not found"; return 2; }
  "$cs" --tool memcheck --error-exitcode 3 --print-limit 20 "$BUILD/cuda_parity_test" --quick
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
    --backend cuda --executor graph --model "synthetic:$PRESET" \
    --out "$OUT/s1-s6-cuda-graph.json"
}

# The first failed step again with CUDA_LAUNCH_BLOCKING=1 (errors reported at the failing
# kernel), printing its first FAIL line.
rerun_blocking() {
  local s=$1 cmd
  case $s in
    parity) cmd=("$BUILD/$(cat "$OUT/parity-failed" 2>/dev/null || echo cuda_parity_test)") ;;
    memcheck) cmd=("$BUILD/cuda_parity_test" --quick) ;;
    hf) cmd=(python3 scripts/hf_parity.py --lib "$BUILD/liblmrig.so") ;;
    bench) cmd=("$BUILD/cuda_bench_test" --preset "$PRESET") ;;
    *) return 0 ;;
  esac
  local t=$(( $(left) - 5 ))
  [ "$t" -ge 20 ] || { echo "no time left to rerun $s with CUDA_LAUNCH_BLOCKING=1"; return 0; }
  echo "== rerun of $s with CUDA_LAUNCH_BLOCKING=1 (${t}s at most): ${cmd[*]}"
  CUDA_LAUNCH_BLOCKING=1 timeout "$t" "${cmd[@]}" > "$OUT/rerun.log" 2>&1
  echo "exit $?; first failing check:"
  grep -m1 -B2 -A2 -E '^FAIL|error|Error' "$OUT/rerun.log" || tail -5 "$OUT/rerun.log"
}

for s in "${STEPS[@]}"; do
  case $s in
    carry|device|build|ptxas|tests|parity|hf|bench|kernels|memcheck|deno) ;;
    *) echo "unknown step '$s' (carry device build ptxas tests parity hf bench kernels memcheck deno)"; exit 2 ;;
  esac
done
# the dev-machine steps are not part of the GPU call's budget
case " ${STEPS[*]} " in *" carry "*|*" ptxas "*) BUDGET=$((BUDGET > 1900 ? BUDGET : 1900)) ;; esac
for s in "${STEPS[@]}"; do
  rem=$(left)
  if [ "$rem" -lt "${NEED[$s]}" ]; then
    record "$s" SKIP "0s: ${rem}s left of ${BUDGET}s, needs ${NEED[$s]}s"
    continue
  fi
  lim=${LIMIT[$s]}
  [ "$lim" -gt $((rem - 5)) ] && lim=$((rem - 5))
  echo "== $s (timeout ${lim}s, ${rem}s left)"
  t0=$(date +%s)
  # a function under `timeout`: run it in a child bash that sources nothing but this file's
  # functions (exported) so the time limit also ends its children
  export -f "step_$s" ptxas_summary 2>/dev/null
  export BUILD ARCH PRESET OUT
  timeout --kill-after=5 "$lim" bash -c "step_$s" > >(tee "$OUT/$s.log") 2>&1
  st=$?
  dt=$(( $(date +%s) - t0 ))
  case $st in
    0) record "$s" PASS "${dt}s" ;;
    2) record "$s" SKIP "${dt}s: $(tail -1 "$OUT/$s.log")" ;;
    124|137) record "$s" FAIL "${dt}s: timed out after ${lim}s (log $OUT/$s.log)" ;;
    *) record "$s" FAIL "${dt}s (exit $st; log $OUT/$s.log)" ;;
  esac
  # a failed build makes the later steps meaningless
  [ "$s" = build ] && [ $st -ne 0 ] && break
done
sleep 0.2 # let tee finish
[ -n "$FIRST_FAIL" ] && rerun_blocking "$FIRST_FAIL" 2>&1 | tee -a "$OUT/summary-rerun.txt"
echo "== summary (logs in $OUT; $(( $(date +%s) - T_START ))s of ${BUDGET}s)"
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
if [ -n "$DEST" ]; then
  mkdir -p "$DEST"
  for f in summary.txt bench.txt kernels.txt ptxas.txt s1-s6-cuda-graph.json; do
    [ -f "$OUT/$f" ] && cp "$OUT/$f" "$DEST/"
  done
  tar -czf "$DEST/gpu-check-logs.tar.gz" -C "$OUT" . && echo "logs packed: $DEST/gpu-check-logs.tar.gz"
fi
exit $FAILED
