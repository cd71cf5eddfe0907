/* quant_neon_body.h: the NEON quantised dot kernels, included twice by quant_neon.c: once with
 * QN_DOT the base-NEON 16-byte dot (vmull_s8 + vpadalq_s16) and once with the ARMv8.2 dotprod
 * instruction (vdotq_s32). QN_ATTR: the function attribute; QN_NAME(x): the function name.
 * QN_DOT(acc, a, b): acc (int32x4) += products of the int8x16 a and b, summed in fours per lane
 * (the lane grouping differs between the two, the lane total does not). */

/* Q8_0 x Q8_0 */
QN_ATTR static float QN_NAME(q8_0)(int n, const void *wv, const void *xv) {
    const lmr_block_q8_0 *w = wv, *x = xv;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    const int32x4_t z = vdupq_n_s32(0);
    int nb = n / LMR_QK8_0, b = 0;
    for (; b + 1 < nb; b += 2) {
        int32x4_t p0 = QN_DOT(QN_DOT(z, vld1q_s8(w[b].qs), vld1q_s8(x[b].qs)), vld1q_s8(w[b].qs + 16),
                              vld1q_s8(x[b].qs + 16));
        int32x4_t p1 = QN_DOT(QN_DOT(z, vld1q_s8(w[b + 1].qs), vld1q_s8(x[b + 1].qs)),
                              vld1q_s8(w[b + 1].qs + 16), vld1q_s8(x[b + 1].qs + 16));
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(p0), lmr_f16_to_f32(w[b].d) * lmr_f16_to_f32(x[b].d));
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(p1),
                           lmr_f16_to_f32(w[b + 1].d) * lmr_f16_to_f32(x[b + 1].d));
    }
    for (; b < nb; b++) {
        int32x4_t p = QN_DOT(QN_DOT(z, vld1q_s8(w[b].qs), vld1q_s8(x[b].qs)), vld1q_s8(w[b].qs + 16),
                             vld1q_s8(x[b].qs + 16));
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(p), lmr_f16_to_f32(w[b].d) * lmr_f16_to_f32(x[b].d));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

/* Q4_K x Q8_K */
QN_ATTR static float QN_NAME(q4_K)(int n, const void *wv, const void *xv) {
    const lmr_block_q4_K *w = wv;
    const lmr_block_q8_K *x = xv;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int32x4_t z = vdupq_n_s32(0);
    float s = 0;
    for (int b = 0; b < n / LMR_QK_K; b++) {
        uint32_t u[4];
        q4_K_unpack(w[b].scales, u);
        const uint8_t *sc = (const uint8_t *)u, *mn = sc + 8;
        const int16x8_t bs = vpaddq_s16(vld1q_s16(x[b].bsums), vld1q_s16(x[b].bsums + 8));
        const int16x8_t m16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        const int32x4_t pm = vmlal_high_s16(vmull_s16(vget_low_s16(m16), vget_low_s16(bs)), m16, bs);
        const int summ = vaddvq_s32(pm);
        int32x4_t sumv = z;
        const uint8_t *q4 = w[b].qs;
        const int8_t *q8 = x[b].qs;
        for (int j = 0; j < 4; j++, q4 += 32, q8 += 64) {
            const uint8x16_t a = vld1q_u8(q4), c = vld1q_u8(q4 + 16);
            int32x4_t lo = QN_DOT(QN_DOT(z, vreinterpretq_s8_u8(vandq_u8(a, m4)), vld1q_s8(q8)),
                                  vreinterpretq_s8_u8(vandq_u8(c, m4)), vld1q_s8(q8 + 16));
            int32x4_t hi = QN_DOT(QN_DOT(z, vreinterpretq_s8_u8(vshrq_n_u8(a, 4)), vld1q_s8(q8 + 32)),
                                  vreinterpretq_s8_u8(vshrq_n_u8(c, 4)), vld1q_s8(q8 + 48));
            sumv = vmlaq_n_s32(sumv, lo, sc[2 * j]);
            sumv = vmlaq_n_s32(sumv, hi, sc[2 * j + 1]);
        }
        s += x[b].d * lmr_f16_to_f32(w[b].d) * (float)vaddvq_s32(sumv) -
             x[b].d * lmr_f16_to_f32(w[b].dmin) * (float)summ;
    }
    return s;
}

/* Q6_K x Q8_K: signed q - 32 against x, per 16-weight sub-block scale */
QN_ATTR static float QN_NAME(q6_K)(int n, const void *wv, const void *xv) {
    const lmr_block_q6_K *w = wv;
    const lmr_block_q8_K *x = xv;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
    const int8x16_t k32 = vdupq_n_s8(32);
    const int32x4_t z = vdupq_n_s32(0);
    float s = 0;
    for (int b = 0; b < n / LMR_QK_K; b++) {
        int32x4_t sumv = z;
        const uint8_t *ql = w[b].ql, *qh = w[b].qh;
        const int8_t *q8 = x[b].qs, *sc = w[b].scales;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, q8 += 128, sc += 8)
            for (int k = 0; k < 2; k++) {
                const uint8x16_t hb = vld1q_u8(qh + 16 * k);
                const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
                uint8x16_t q[4];
                q[0] = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
                q[1] = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
                q[2] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
                q[3] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int p = 0; p < 4; p++) { /* weights 32p + 16k .. + 15: sub-block 2p + k */
                    int8x16_t qs = vsubq_s8(vreinterpretq_s8_u8(q[p]), k32);
                    sumv = vmlaq_n_s32(sumv, QN_DOT(z, qs, vld1q_s8(q8 + 32 * p + 16 * k)), sc[2 * p + k]);
                }
            }
        s += x[b].d * lmr_f16_to_f32(w[b].d) * (float)vaddvq_s32(sumv);
    }
    return s;
}
