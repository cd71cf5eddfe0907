#!/bin/bash
# Decode attention of one layer, `lmrig-kernels-bench 2 attn 1` (2 threads, median of 5 reps over
# 16 separate caches per row), two builds alternating, 5 rounds: OLD = 21e589c (before this work),
# NEW = 083a389. Build each with: git worktree add DIR COMMIT && cmake -S DIR -B DIR/build
# -DCMAKE_BUILD_TYPE=Release && cmake --build DIR/build --target lmrig-kernels-bench
OLD=${OLD:?path of lmrig-kernels-bench built at 21e589c} NEW=${NEW:?path of lmrig-kernels-bench built at 083a389}
{ date -u; grep -m1 "model name" /proc/cpuinfo; grep -m1 flags /proc/cpuinfo; nproc; uptime; } > env.txt
for r in 1 2 3 4 5; do
  echo "== round $r old 21e589c" >> raw.txt; $OLD 2 attn 1 >> raw.txt 2>&1
  echo "== round $r new 083a389" >> raw.txt; $NEW 2 attn 1 >> raw.txt 2>&1
done
uptime >> env.txt
