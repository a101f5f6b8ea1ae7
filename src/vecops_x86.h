/* AVX2 + FMA versions of the block products (fw_dot_block, fw_combine), for the builds
 * compiled with -mavx2 -mfma (see setup.py); the baseline build keeps the portable loops
 * of vecops.h.
 *
 * Why by hand: at the default dim 100 a row is 12.5 vectors of 8 floats. The compiler's
 * vectorised loops finish every row with a scalar tail and every dot product with its
 * own horizontal sum, and in a block of 6 targets by 6 to 10 inputs those tails and sums
 * cost about as many instructions as the multiply-adds (callgrind). Here a row's last
 * partial vector is a masked load, four dot products share one horizontal sum, and a
 * tile of accumulators stays in registers for the whole row. What it buys in time
 * depends on what else waits (benchmarks/RESULTS.md, issue 15): nothing measurable for
 * skip-gram at dim 100 on an idle machine, where fetching rows is the limit, 10-37% on
 * a busy one, and a median 23% for CBOW at dim 300.
 */
#ifndef FASTW2V_VECOPS_X86_H
#define FASTW2V_VECOPS_X86_H

#include <immintrin.h>
#include <stdint.h>

#define FW_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) on, for the partial vector that ends a row of d % 8 = r floats. */
FW_INLINE __m256i fw_tail_mask(int r)
{
    static const int32_t ones_then_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ones_then_zeros + 8 - r));
}

/* The four horizontal sums of a0 .. a3, in order, as one 128-bit vector: two rounds of
 * pairwise adds within each half, then the halves added. */
FW_INLINE __m128 fw_hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    const __m256 pairs = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1));
}

/* One tile of the score block: MR rows of a against NR (<= 4) rows of b, every pair's
 * dot product over the d floats, written to scores[r * ldc + c]. MR and NR are
 * constants at every call, so the accumulators are registers. */
FW_INLINE void fw_dot_tile(float *const *a, float *const *b, int mr, int nr,
                           float *restrict scores, int ldc, int d)
{
    __m256 acc[3][4];
    const int full = d & ~7;
#pragma GCC unroll 3
    for (int r = 0; r < mr; r++) {
#pragma GCC unroll 4
        for (int c = 0; c < nr; c++) {
            acc[r][c] = _mm256_setzero_ps();
        }
    }
    for (int i = 0; i < full; i += 8) {
        __m256 av[3];
#pragma GCC unroll 3
        for (int r = 0; r < mr; r++) {
            av[r] = _mm256_loadu_ps(a[r] + i);
        }
#pragma GCC unroll 4
        for (int c = 0; c < nr; c++) {
            const __m256 bv = _mm256_loadu_ps(b[c] + i);
#pragma GCC unroll 3
            for (int r = 0; r < mr; r++) {
                acc[r][c] = _mm256_fmadd_ps(av[r], bv, acc[r][c]);
            }
        }
    }
    if (full < d) {
        const __m256i mask = fw_tail_mask(d - full);
        __m256 av[3];
#pragma GCC unroll 3
        for (int r = 0; r < mr; r++) {
            av[r] = _mm256_maskload_ps(a[r] + full, mask);
        }
#pragma GCC unroll 4
        for (int c = 0; c < nr; c++) {
            const __m256 bv = _mm256_maskload_ps(b[c] + full, mask);
#pragma GCC unroll 3
            for (int r = 0; r < mr; r++) {
                acc[r][c] = _mm256_fmadd_ps(av[r], bv, acc[r][c]);
            }
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < mr; r++) {
        const __m256 zero = _mm256_setzero_ps();
        const __m128 sums = fw_hsum4(acc[r][0], nr > 1 ? acc[r][1] : zero,
                                     nr > 2 ? acc[r][2] : zero, nr > 3 ? acc[r][3] : zero);
        float *out = scores + (size_t)r * ldc;
        if (nr == 4) {
            _mm_storeu_ps(out, sums);
        } else {
            float lanes[4];
            _mm_storeu_ps(lanes, sums);
            for (int c = 0; c < nr; c++) {
                out[c] = lanes[c];
            }
        }
    }
}

/* A row of tiles: mr (1 to 3) rows of a against all nb rows of b, four at a time. mr is
 * a constant at every call; the last one to three b rows get a tile of their own size. */
FW_INLINE void fw_dot_tiles(float *const *a, int mr, float *const *b, int nb,
                            float *restrict scores, int d)
{
    int j = 0;
    for (; j + 4 <= nb; j += 4) {
        fw_dot_tile(a, b + j, mr, 4, scores + j, nb, d);
    }
    switch (nb - j) {
    case 3: fw_dot_tile(a, b + j, mr, 3, scores + j, nb, d); break;
    case 2: fw_dot_tile(a, b + j, mr, 2, scores + j, nb, d); break;
    case 1: fw_dot_tile(a, b + j, mr, 1, scores + j, nb, d); break;
    default: break;
    }
}

/* scores[k * nb + j] = <a[k], b[j]> for every k < na, j < nb: tiles of three a rows by
 * four b rows (twelve accumulators, three a vectors and one b vector: all sixteen
 * registers). A skip-gram block is six targets (a) by two to ten inputs (b); CBOW's is
 * six targets by one input. */
static inline void fw_dot_block(float *const *a, int na, float *const *b, int nb,
                                float *restrict scores, int d)
{
    int k = 0;
    for (; k + 3 <= na; k += 3) {
        fw_dot_tiles(a + k, 3, b, nb, scores + (size_t)k * nb, d);
    }
    if (na - k == 2) {
        fw_dot_tiles(a + k, 2, b, nb, scores + (size_t)k * nb, d);
    } else if (na - k == 1) {
        fw_dot_tiles(a + k, 1, b, nb, scores + (size_t)k * nb, d);
    }
}

/* One tile of a combine: destinations y[0 .. nd) (nd <= 2) get sum over k < g (g <= 6)
 * of coef[r][k] * xs[k], written over them when `assign`, added otherwise. The 2 x 6
 * coefficients stay in registers for the whole row, beside two accumulators and one
 * source vector. nd and g are constants at every call. */
FW_INLINE void fw_combine_tile(float *const *xs, int g, const float *const *coef,
                               float *const *y, int nd, int assign, int d)
{
    /* The row pointers are copied to locals: the intrinsics' stores may alias anything,
     * so pointers read through xs and y would be reloaded after every store. */
    __m256 cv[2][6];
    const float *x[6];
    float *out[2];
    const int full = d & ~7;
#pragma GCC unroll 6
    for (int k = 0; k < g; k++) {
        x[k] = xs[k];
    }
#pragma GCC unroll 2
    for (int r = 0; r < nd; r++) {
        out[r] = y[r];
    }
#pragma GCC unroll 2
    for (int r = 0; r < nd; r++) {
#pragma GCC unroll 6
        for (int k = 0; k < g; k++) {
            cv[r][k] = _mm256_broadcast_ss(coef[r] + k);
        }
    }
    for (int i = 0; i < full; i += 8) {
        __m256 s[2];
#pragma GCC unroll 2
        for (int r = 0; r < nd; r++) {
            s[r] = assign ? _mm256_setzero_ps() : _mm256_loadu_ps(out[r] + i);
        }
#pragma GCC unroll 6
        for (int k = 0; k < g; k++) {
            const __m256 v = _mm256_loadu_ps(x[k] + i);
#pragma GCC unroll 2
            for (int r = 0; r < nd; r++) {
                s[r] = _mm256_fmadd_ps(cv[r][k], v, s[r]);
            }
        }
#pragma GCC unroll 2
        for (int r = 0; r < nd; r++) {
            _mm256_storeu_ps(out[r] + i, s[r]);
        }
    }
    if (full < d) {
        const __m256i mask = fw_tail_mask(d - full);
        __m256 s[2];
#pragma GCC unroll 2
        for (int r = 0; r < nd; r++) {
            s[r] = assign ? _mm256_setzero_ps() : _mm256_maskload_ps(out[r] + full, mask);
        }
#pragma GCC unroll 6
        for (int k = 0; k < g; k++) {
            const __m256 v = _mm256_maskload_ps(x[k] + full, mask);
#pragma GCC unroll 2
            for (int r = 0; r < nd; r++) {
                s[r] = _mm256_fmadd_ps(cv[r][k], v, s[r]);
            }
        }
#pragma GCC unroll 2
        for (int r = 0; r < nd; r++) {
            _mm256_maskstore_ps(out[r] + full, mask, s[r]);
        }
    }
}

/* fw_combine_tile with nd and g turned into constants. */
static inline void fw_combine_group(float *const *xs, int g, const float *const *coef,
                                    float *const *y, int nd, int assign, int d)
{
#define FW_TILE(ND, G) fw_combine_tile(xs, G, coef, y, ND, assign, d)
    if (nd == 2) {
        switch (g) {
        case 6: FW_TILE(2, 6); break;
        case 5: FW_TILE(2, 5); break;
        case 4: FW_TILE(2, 4); break;
        case 3: FW_TILE(2, 3); break;
        case 2: FW_TILE(2, 2); break;
        default: FW_TILE(2, 1); break;
        }
    } else {
        switch (g) {
        case 6: FW_TILE(1, 6); break;
        case 5: FW_TILE(1, 5); break;
        case 4: FW_TILE(1, 4); break;
        case 3: FW_TILE(1, 3); break;
        case 2: FW_TILE(1, 2); break;
        default: FW_TILE(1, 1); break;
        }
    }
#undef FW_TILE
}

/* ys[j] = sum_k coef[j * nk + k] * xs[k] for j < nj (nk >= 1), or += that sum when
 * `accumulate` (the contract of the portable fw_combine in vecops.h): destinations two
 * at a time, sources six at a time. */
static inline void fw_combine(float *const *xs, int nk, const float *restrict coef,
                              float *const *ys, int nj, int accumulate, int d)
{
    for (int j = 0; j < nj; j += 2) {
        const int nd = nj - j < 2 ? nj - j : 2;
        for (int k = 0; k < nk; k += 6) {
            const int g = nk - k < 6 ? nk - k : 6;
            const float *rows_coef[2] = {coef + (size_t)j * nk + k,
                                         coef + (size_t)(j + nd - 1) * nk + k};
            fw_combine_group(xs + k, g, rows_coef, ys + j, nd, k == 0 && !accumulate, d);
        }
    }
}


/* e^x for x <= 0, to about 1e-7 relative (for x below -87, where e^x is below float32's
 * normal range, the value of e^-87). Range reduction x = n ln 2 + r with |r| <= ln 2 / 2
 * (ln 2 split in two constants so that n ln 2 is exact to float precision), e^r by its
 * Taylor series to r^6 (remainder below 1.2e-7), and 2^n put into the exponent bits. */
FW_INLINE __m256 fw_exp_nonpositive(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i two_to_n = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(two_to_n));
}

/* Logits j .. j + 7 of a row for fw_row_steps: scores[j] - (in_gamma[j] + offset), or
 * the scores themselves when in_gamma is NULL and offset 0 (x - (0 + 0) is x exactly).
 * Lanes at or past `full` come from a masked load and hold 0 beyond the row. */
FW_INLINE __m256 fw_logits(const float *scores, const float *in_gamma, __m256 offset,
                           int j, int full, __m256i tail)
{
    const __m256 score = j < full ? _mm256_loadu_ps(scores + j)
                                  : _mm256_maskload_ps(scores + j, tail);
    const __m256 gamma = in_gamma == NULL ? _mm256_setzero_ps()
                         : j < full ? _mm256_loadu_ps(in_gamma + j)
                                    : _mm256_maskload_ps(in_gamma + j, tail);
    return _mm256_sub_ps(score, _mm256_add_ps(gamma, offset));
}

FW_INLINE __m256 fw_nan_lanes(__m256 x)
{
    return _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
}

/* The steps of one target's examples against n inputs, all of one label:
 * steps[j] = (label - sigma(z_j)) * alpha, and each example's loss, -log sigma(z_j) or
 * -log sigma(-z_j), added to *loss in the order j = 0 .. n - 1. The logit z_j is
 * scores[j] for NS and HS (in_gamma NULL, offset 0), and NCE's scores[j] - (in_gamma[j]
 * + offset) without a context bias, offset being the target's log(k q(c)) or 0
 * (nce_logit in src/_kernel.pyx, float for float). This is classify's rule eight
 * examples at a time: inside the tables' range (`size` bins over (-range, range)) the
 * same table reads, as gathers; outside it, where NCE's shifted logits often fall,
 * sigma is 0 or 1 and the loss is max(-z, 0) + e^-|z| (z signed by the label), with
 * e^-|z| (below 3.4e-4 there) from fw_exp_nonpositive instead of the C library's exp.
 * Returns 0 and adds nothing to *loss when a logit is NaN: classify handles it. */
static inline int fw_row_steps(const float *restrict scores, const float *in_gamma,
                               float offset, int n, int label, const float *sigmoid,
                               const float *log_sigmoid, int size, float range, float alpha,
                               float *restrict steps, double *loss)
{
    const __m256 low = _mm256_set1_ps(-range), high = _mm256_set1_ps(range);
    const __m256 bins_per_unit = _mm256_set1_ps((float)size / (2.0f * range));
    const __m256i last_bin = _mm256_set1_epi32(size - 1);
    const __m256 label_v = _mm256_set1_ps((float)label), alpha_v = _mm256_set1_ps(alpha);
    const __m256 offset_v = _mm256_set1_ps(offset), zero = _mm256_setzero_ps();
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const int full = n & ~7;
    const __m256i tail = fw_tail_mask(n - full);
    float base[8], rest[8];
    for (int j = 0; j < n; j += 8) {
        if (_mm256_movemask_ps(fw_nan_lanes(fw_logits(scores, in_gamma, offset_v, j, full,
                                                      tail)))) {
            return 0;
        }
    }
    for (int j = 0; j < n; j += 8) {
        const int lanes = j < full ? 8 : n - full;
        const __m256 z = fw_logits(scores, in_gamma, offset_v, j, full, tail);
        const __m256 inside = _mm256_and_ps(_mm256_cmp_ps(z, low, _CMP_GT_OQ),
                                            _mm256_cmp_ps(z, high, _CMP_LT_OQ));
        /* Inside: the tables, read only where inside (a logit outside has no bin). */
        __m256i idx = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_add_ps(z, high),
                                                        bins_per_unit));
        idx = _mm256_min_epi32(idx, last_bin);
        const __m256i loss_idx = label ? idx : _mm256_sub_epi32(last_bin, idx);
        const __m256 table_prob = _mm256_mask_i32gather_ps(zero, sigmoid, idx, inside, 4);
        const __m256 table_loss = _mm256_xor_ps(
            sign, _mm256_mask_i32gather_ps(zero, log_sigmoid, loss_idx, inside, 4));
        /* Outside: sigma saturates; z signed by the label gives the loss. */
        const __m256 saturated = _mm256_and_ps(_mm256_cmp_ps(z, high, _CMP_GE_OQ), one);
        const __m256 signed_z = label ? z : _mm256_xor_ps(z, sign);
        const __m256 hinge = _mm256_max_ps(_mm256_xor_ps(signed_z, sign), zero);
        const __m256 tail_term = fw_exp_nonpositive(
            _mm256_or_ps(signed_z, sign));  /* -|z| */
        const __m256 prob = _mm256_blendv_ps(saturated, table_prob, inside);
        _mm256_storeu_ps(base, _mm256_blendv_ps(hinge, table_loss, inside));
        _mm256_storeu_ps(rest, _mm256_blendv_ps(tail_term, zero, inside));
        const __m256 step = _mm256_mul_ps(_mm256_sub_ps(label_v, prob), alpha_v);
        if (lanes == 8) {
            _mm256_storeu_ps(steps + j, step);
        } else {
            _mm256_maskstore_ps(steps + j, tail, step);
        }
        for (int i = 0; i < lanes; i++) {
            *loss += (double)base[i] + (double)rest[i];
        }
    }
    return 1;
}

#endif
