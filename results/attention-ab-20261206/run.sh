#!/bin/bash
# Decode attention of one layer, `lmrig-kernels-bench 2 attn 1` (2 threads, median of 5 reps over
# 16 separate caches per row), two builds alternating, 9 rounds: OLD = 662a59d (before this
# change), NEW = a7f6d0b. Build each with: git worktree add DIR COMMIT && cmake -S DIR -B DIR/build
# -DCMAKE_BUILD_TYPE=Release && cmake --build DIR/build --target lmrig-kernels-bench
OLD=${OLD:?path of lmrig-kernels-bench built at 662a59d} NEW=${NEW:?path of lmrig-kernels-bench built at a7f6d0b}
{ date -u; grep -m1 "model name" /proc/cpuinfo; grep -m1 flags /proc/cpuinfo; nproc; uptime; } > env.txt
for r in 1 2 3 4 5 6 7 8 9; do
  echo "== round $r old 662a59d" >> raw.txt; $OLD 2 attn 1 >> raw.txt 2>&1
  echo "== round $r new a7f6d0b" >> raw.txt; $NEW 2 attn 1 >> raw.txt 2>&1
done
uptime >> env.txt
