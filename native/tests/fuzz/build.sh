#!/bin/sh
# build.sh: build the libFuzzer targets (needs clang) into build-fuzz/ and run each briefly.
#   native/tests/fuzz/build.sh [seconds per target, default 30]
# CI runs the same targets without clang: native/CMakeLists.txt links each with driver.c (blind
# seeded mutation, no coverage) and ctest runs them, 20 s each in the sanitizer build.
set -e
cd "$(dirname "$0")/../../.."
out=build-fuzz
mkdir -p $out/corpus_st $out/corpus_json $out/corpus_gguf
src="native/src/json.c native/src/json_write.c native/src/models/config.c native/src/models/presets.c
     native/src/models/safetensors.c native/src/models/io_util.c native/src/models/load.c
     native/src/models/synth.c native/src/models/save.c native/src/host_memory.c
     native/src/models/gguf.c native/src/models/gguf_load.c"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Inative/include -Inative/src"
clang $flags native/tests/fuzz/fuzz_json_config.c $src -lm -lpthread -o $out/fuzz_json_config
clang $flags native/tests/fuzz/fuzz_safetensors.c $src -lm -lpthread -o $out/fuzz_safetensors
clang $flags native/tests/fuzz/fuzz_gguf.c $src -lm -lpthread -o $out/fuzz_gguf
# seeds: a saved micro model's safetensors, and two config.json files
cat > $out/seed.c <<'C'
#include <stdio.h>
#include "models/model_io.h"
int main(int argc, char **argv) {
    char err[512]; lmr_weights w;
    if (lmr_weights_synthesize(argv[1], 2, 1, 0, 1, &w, err, sizeof err) ||
        lmr_weights_save(&w, argv[2], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    lmr_weights_free(&w); return 0;
}
C
printf '%s' '{"model_type":"qwen2","hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":64,"tie_word_embeddings":false}' > $out/micro.json
cc -std=c11 -D_GNU_SOURCE -Inative/include -Inative/src $out/seed.c $src -lm -lpthread -o $out/seed
$out/seed $out/micro.json $out/seed_model
cp $out/seed_model/model.safetensors $out/corpus_st/
cp $out/seed_model/config.json $out/corpus_json/
cp $out/micro.json $out/corpus_json/
secs=${1:-30}
$out/fuzz_json_config -max_total_time=$secs -max_len=4096 $out/corpus_json
$out/fuzz_safetensors -max_total_time=$secs -max_len=16384 $out/corpus_st
# GGUF seed: the micro model written by tests/gguf_writer.h (as llama.cpp lays a file out)
cat > $out/seed_gguf.c <<'C'
#include "../native/tests/gguf_writer.h"
int main(int argc, char **argv) {
    char err[512]; lmr_weights w; gw_file f; gw_opts o = {1, 0, 0, NULL, NULL};
    if (lmr_weights_synthesize(argv[1], 0, 1, 0, 1, &w, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    gw_write(&w, &o, &f);
    return gw_save(&f, argv[2]);
}
C
cc -std=c11 -D_GNU_SOURCE -Inative/include -Inative/src $out/seed_gguf.c $src -lm -lpthread -o $out/seed_gguf
$out/seed_gguf $out/micro.json $out/corpus_gguf/micro.gguf
$out/fuzz_gguf -max_total_time=$secs -max_len=32768 $out/corpus_gguf
