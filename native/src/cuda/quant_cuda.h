/* quant_cuda.h: the CUDA kernels of the quantised weight types (Q8_0, Q4_K, Q6_K; quant.cu),
 * callable from C: a GEMV that reads the blocks in place and a dequantisation to F32 / F16 / BF16
 * rows, for the kernel tests (cuda_quant_test). The engine's forward pass reaches the same
 * kernels through lmr_cuda_linear / lmr_cuda_embed (common.cuh). Only with LMR_HAVE_CUDA. */
#ifndef LMR_CUDA_QUANT_CUDA_H
#define LMR_CUDA_QUANT_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "lmrig.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[t, o] = sum_i x[t, i] W[o, i] (+ bias[o]) (+ y[t, o] when accumulate) for t < n_tok, on the
 * given cudaStream_t (NULL: the default stream). W: device, [out] rows of in / block blocks of
 * wdtype; x [n_tok, in], y [n_tok, out] FP32 device. FP32 activations and accumulation. Errors:
 * LMR_ERR_UNSUPPORTED (dtype not quantised, in not a multiple of its block), LMR_ERR_BACKEND. */
lmr_status lmr_cuda_quant_gemv(void *stream, int wdtype, const void *W, int in, int out,
                               const float *x, int n_tok, const float *bias, float *y,
                               int accumulate);
/* dst[n] = the n weights (whole blocks) at W dequantised to out_dtype (F32, F16 or BF16). */
lmr_status lmr_cuda_quant_dequant(void *stream, int wdtype, const void *W, int64_t n,
                                  int out_dtype, void *dst);

/* Checks for the tests: host buffers in and out, device 0, default stream; error text into err. */
lmr_status lmr_cuda_check_quant_gemv(int wdtype, const void *W, int in, int out, const float *x,
                                     int n_tok, const float *bias, float *y, int accumulate,
                                     char *err, size_t errcap);
lmr_status lmr_cuda_check_quant_dequant(int wdtype, const void *W, int64_t n, float *dst,
                                        char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif /* LMR_CUDA_QUANT_CUDA_H */
