/* quant_avx512.c: the AVX-512 level's quantised dot products (none yet: the AVX2 kernels run). */
#include "../../include/lmrig.h"
#include "quant.h"

lmr_qdot_fn lmr_quant_dot_avx512(int wdtype) {
    (void)wdtype;
    return NULL;
}
