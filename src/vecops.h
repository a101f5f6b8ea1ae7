/* Dense float32 vector helpers for the training kernel.
 *
 * Why a C header: a float dot product is a reduction, and C's strict evaluation order
 * stops the compiler from vectorising it. `#pragma omp simd reduction` (enabled by
 * -fopenmp-simd, which needs no OpenMP runtime) grants that permission for these loops
 * only, instead of -ffast-math for the whole module. `restrict` tells the compiler the
 * rows do not overlap, which holds because every caller passes two distinct rows or a
 * row and a per-thread scratch buffer.
 */
#ifndef FASTW2V_VECOPS_H
#define FASTW2V_VECOPS_H

#include <stddef.h>

/* The builds compiled with AVX2 and FMA (setup.py) take their block products,
 * fw_dot_block and fw_combine, from vecops_x86.h; the portable loops of those two below
 * are the baseline build's. Everything else is shared. */
#if defined(__AVX2__) && defined(__FMA__)
#define FW_X86_BLOCKS 1
#include "vecops_x86.h"
#endif

static inline void fw_zero(float *restrict y, int n)
{
    for (int i = 0; i < n; i++) {
        y[i] = 0.0f;
    }
}

static inline float fw_dot(const float *restrict a, const float *restrict b, int n)
{
    float sum = 0.0f;
#pragma omp simd reduction(+:sum)
    for (int i = 0; i < n; i++) {
        sum += a[i] * b[i];
    }
    return sum;
}

/* scores[j] = <rows[j], v> for j < n. Four rows go through the loop together: four
 * independent sums hide the latency of the multiply-adds that a single dot product's
 * one running sum waits on, and v is loaded once for all four. */
static inline void fw_dots(float *const *rows, int n, const float *restrict v,
                           float *restrict scores, int d)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+:s0, s1, s2, s3)
        for (int i = 0; i < d; i++) {
            s0 += r0[i] * v[i];
            s1 += r1[i] * v[i];
            s2 += r2[i] * v[i];
            s3 += r3[i] * v[i];
        }
        scores[j] = s0;
        scores[j + 1] = s1;
        scores[j + 2] = s2;
        scores[j + 3] = s3;
    }
    for (; j + 2 <= n; j += 2) {
        const float *r0 = rows[j], *r1 = rows[j + 1];
        float s0 = 0.0f, s1 = 0.0f;
#pragma omp simd reduction(+:s0, s1)
        for (int i = 0; i < d; i++) {
            s0 += r0[i] * v[i];
            s1 += r1[i] * v[i];
        }
        scores[j] = s0;
        scores[j + 1] = s1;
    }
    if (j < n) {
        scores[j] = fw_dot(rows[j], v, d);
    }
}

#ifndef FW_X86_BLOCKS
/* scores[k * nb + j] = <a[k], b[j]> for every k < na, j < nb. Two a-rows by four b-rows
 * go through the loop together: eight independent sums from six loads, where one row
 * against four (fw_dots) needs five loads for four sums. Loads, not multiply-adds, bound
 * these loops, so the all-pairs scores of a shared-negatives block cost about a third
 * less this way. */
static inline void fw_dot_block(float *const *a, int na, float *const *b, int nb,
                                float *restrict scores, int d)
{
    int k = 0;
    if (nb == 1) {
        fw_dots(a, na, b[0], scores, d);
        return;
    }
    for (; k + 2 <= na; k += 2) {
        const float *a0 = a[k], *a1 = a[k + 1];
        float *row0 = scores + (size_t)k * nb, *row1 = row0 + nb;
        int j = 0;
        for (; j + 4 <= nb; j += 4) {
            const float *b0 = b[j], *b1 = b[j + 1], *b2 = b[j + 2], *b3 = b[j + 3];
            float s00 = 0.0f, s01 = 0.0f, s02 = 0.0f, s03 = 0.0f;
            float s10 = 0.0f, s11 = 0.0f, s12 = 0.0f, s13 = 0.0f;
#pragma omp simd reduction(+:s00, s01, s02, s03, s10, s11, s12, s13)
            for (int i = 0; i < d; i++) {
                const float x0 = a0[i], x1 = a1[i];
                s00 += x0 * b0[i];
                s01 += x0 * b1[i];
                s02 += x0 * b2[i];
                s03 += x0 * b3[i];
                s10 += x1 * b0[i];
                s11 += x1 * b1[i];
                s12 += x1 * b2[i];
                s13 += x1 * b3[i];
            }
            row0[j] = s00; row0[j + 1] = s01; row0[j + 2] = s02; row0[j + 3] = s03;
            row1[j] = s10; row1[j + 1] = s11; row1[j + 2] = s12; row1[j + 3] = s13;
        }
        /* The one to three b rows left, one at a time against a0 and a1. Written out
         * rather than as a call to fw_dots: the compiler keeps fw_dots out of line, and
         * the call with its generic row count made skip-gram 20-25% slower (measured on
         * wiki8, 1 thread). */
        for (; j < nb; j++) {
            const float *b0 = b[j];
            float s00 = 0.0f, s10 = 0.0f;
#pragma omp simd reduction(+:s00, s10)
            for (int i = 0; i < d; i++) {
                s00 += a0[i] * b0[i];
                s10 += a1[i] * b0[i];
            }
            row0[j] = s00;
            row1[j] = s10;
        }
    }
    for (; k < na; k++) {
        fw_dots(b, nb, a[k], scores + (size_t)k * nb, d);
    }
}

#endif

/* y += alpha * x */
static inline void fw_axpy(float alpha, const float *restrict x, float *restrict y, int n)
{
#pragma omp simd
    for (int i = 0; i < n; i++) {
        y[i] += alpha * x[i];
    }
}

/* y += sum_j coef[j] * rows[j], four rows per pass over y. */
static inline void fw_axpys(float *const *rows, int n, const float *restrict coef,
                            float *restrict y, int d)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
        const float c0 = coef[j], c1 = coef[j + 1], c2 = coef[j + 2], c3 = coef[j + 3];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            y[i] += c0 * r0[i] + c1 * r1[i] + c2 * r2[i] + c3 * r3[i];
        }
    }
    /* A block's usual six rows are four plus two: one more pass over y, not two. */
    if (j + 2 <= n) {
        const float *r0 = rows[j], *r1 = rows[j + 1];
        const float c0 = coef[j], c1 = coef[j + 1];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            y[i] += c0 * r0[i] + c1 * r1[i];
        }
        j += 2;
    }
    if (j < n) {
        fw_axpy(coef[j], rows[j], y, d);
    }
}

#ifndef FW_X86_BLOCKS
/* The two-destination passes of fw_combine: y0 and y1 (distinct rows, neither one of
 * xs) get c0[k] * xs[k] and c1[k] * xs[k] summed over the nk (1 to 4) source rows given,
 * written over y when `assign`, added to it otherwise. */
static inline void fw_combine2(float *restrict y0, float *restrict y1, const float *x0,
                               const float *x1, const float *x2, const float *x3, int nk,
                               const float *c0, const float *c1, int assign, int d)
{
    /* Missing sources count as zero rows with zero coefficients; the loop is written once
     * per source count so that no multiply by zero is ever executed. */
    if (nk == 4) {
        const float a0 = c0[0], a1 = c0[1], a2 = c0[2], a3 = c0[3];
        const float b0 = c1[0], b1 = c1[1], b2 = c1[2], b3 = c1[3];
        if (assign) {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i], u2 = x2[i], u3 = x3[i];
                y0[i] = a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3;
                y1[i] = b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3;
            }
        } else {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i], u2 = x2[i], u3 = x3[i];
                y0[i] += a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3;
                y1[i] += b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3;
            }
        }
    } else if (nk == 3) {
        const float a0 = c0[0], a1 = c0[1], a2 = c0[2];
        const float b0 = c1[0], b1 = c1[1], b2 = c1[2];
        if (assign) {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i], u2 = x2[i];
                y0[i] = a0 * u0 + a1 * u1 + a2 * u2;
                y1[i] = b0 * u0 + b1 * u1 + b2 * u2;
            }
        } else {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i], u2 = x2[i];
                y0[i] += a0 * u0 + a1 * u1 + a2 * u2;
                y1[i] += b0 * u0 + b1 * u1 + b2 * u2;
            }
        }
    } else if (nk == 2) {
        const float a0 = c0[0], a1 = c0[1], b0 = c1[0], b1 = c1[1];
        if (assign) {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i];
                y0[i] = a0 * u0 + a1 * u1;
                y1[i] = b0 * u0 + b1 * u1;
            }
        } else {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                const float u0 = x0[i], u1 = x1[i];
                y0[i] += a0 * u0 + a1 * u1;
                y1[i] += b0 * u0 + b1 * u1;
            }
        }
    } else {
        const float a0 = c0[0], b0 = c1[0];
        if (assign) {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                y0[i] = a0 * x0[i];
                y1[i] = b0 * x0[i];
            }
        } else {
#pragma omp simd
            for (int i = 0; i < d; i++) {
                y0[i] += a0 * x0[i];
                y1[i] += b0 * x0[i];
            }
        }
    }
}

/* ys[j] = sum_k coef[j * nk + k] * xs[k] for j < nj (nk >= 1), or += that sum when
 * `accumulate`: the updates of a block, where each of a few destination rows takes a
 * weighted sum of a few source rows. Two destinations share every pass over up to four
 * sources, so each source chunk is loaded once for two rows and each destination is
 * loaded and stored once per four sources, not once per source. The destinations must
 * be distinct and none of them a source; sources may repeat. */
static inline void fw_combine(float *const *xs, int nk, const float *restrict coef,
                              float *const *ys, int nj, int accumulate, int d)
{
    int j = 0;
    for (; j + 2 <= nj; j += 2) {
        const float *c0 = coef + (size_t)j * nk, *c1 = c0 + nk;
        for (int k = 0; k < nk; k += 4) {
            const int m = nk - k < 4 ? nk - k : 4;
            fw_combine2(ys[j], ys[j + 1], xs[k], m > 1 ? xs[k + 1] : xs[k],
                        m > 2 ? xs[k + 2] : xs[k], m > 3 ? xs[k + 3] : xs[k], m,
                        c0 + k, c1 + k, k == 0 && !accumulate, d);
        }
    }
    if (j < nj) {
        if (!accumulate) {
            fw_zero(ys[j], d);
        }
        fw_axpys(xs, nk, coef + (size_t)j * nk, ys[j], d);
    }
}

#endif

/* out = the mean of rows[0 .. n), n >= 1: the first pass writes out (no zeroing pass),
 * later passes add four rows at a time, each row already scaled by 1 / n. */
static inline void fw_mean_rows(float *const *rows, int n, float *restrict out, int d)
{
    const float w = 1.0f / (float)n;
    int j;
    if (n >= 4) {
        const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            out[i] = w * r0[i] + w * r1[i] + w * r2[i] + w * r3[i];
        }
        j = 4;
    } else if (n >= 2) {
        const float *r0 = rows[0], *r1 = rows[1];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            out[i] = w * r0[i] + w * r1[i];
        }
        j = 2;
    } else {
        const float *r0 = rows[0];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            out[i] = w * r0[i];
        }
        j = 1;
    }
    for (; j + 4 <= n; j += 4) {
        const float *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            out[i] += w * r0[i] + w * r1[i] + w * r2[i] + w * r3[i];
        }
    }
    for (; j + 2 <= n; j += 2) {
        const float *r0 = rows[j], *r1 = rows[j + 1];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            out[i] += w * r0[i] + w * r1[i];
        }
    }
    if (j < n) {
        fw_axpy(w, rows[j], out, d);
    }
}

/* ys[j * d ...] += coef[j] * x for j < n: one x, n contiguous destination rows, four
 * per pass over x. */
static inline void fw_axpy_rows(const float *restrict x, int n, const float *restrict coef,
                                float *restrict ys, int d)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        float *y0 = ys + (size_t)j * d, *y1 = y0 + d, *y2 = y1 + d, *y3 = y2 + d;
        const float c0 = coef[j], c1 = coef[j + 1], c2 = coef[j + 2], c3 = coef[j + 3];
#pragma omp simd
        for (int i = 0; i < d; i++) {
            const float xi = x[i];
            y0[i] += c0 * xi;
            y1[i] += c1 * xi;
            y2[i] += c2 * xi;
            y3[i] += c3 * xi;
        }
    }
    for (; j < n; j++) {
        fw_axpy(coef[j], x, ys + (size_t)j * d, d);
    }
}

/* rows[j] += x for j < n, four rows per pass over x. The rows may repeat (a word twice
 * in one window): they are not `restrict`, and within a pass each row is updated in
 * turn, so a repeated row receives x once per occurrence. */
static inline void fw_add_to_rows(const float *restrict x, float *const *rows, int n, int d)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        float *y0 = rows[j], *y1 = rows[j + 1], *y2 = rows[j + 2], *y3 = rows[j + 3];
        for (int i = 0; i < d; i++) {
            const float xi = x[i];
            y0[i] += xi;
            y1[i] += xi;
            y2[i] += xi;
            y3[i] += xi;
        }
    }
    for (; j < n; j++) {
        fw_axpy(1.0f, x, rows[j], d);
    }
}


#ifndef FW_X86_BLOCKS
/* The steps of one target's examples against n inputs, all of one label (the contract
 * of vecops_x86.h's fw_row_steps). The baseline build does only NS's and HS's rows whose
 * scores all lie inside the tables, by classify's table rule in src/_kernel.pyx, float
 * for float: steps[j] = (label - sigma(scores[j])) * alpha, and each example's loss added
 * to *loss in the order j = 0 .. n - 1. For any other row (NCE's, or a score outside
 * the range or NaN) it returns 0 and writes nothing, and the kernel classifies the
 * row's examples one by one. */
static inline int fw_row_steps(const float *restrict scores, const float *in_gamma,
                               float offset, int n, int label, const float *sigmoid,
                               const float *log_sigmoid, int size, float range, float alpha,
                               float *restrict steps, double *loss)
{
    const float bins_per_unit = (float)size / (2.0f * range);
    if (in_gamma != NULL || offset != 0.0f) {
        return 0;
    }
    for (int j = 0; j < n; j++) {
        if (!(scores[j] > -range && scores[j] < range)) {
            return 0;
        }
    }
    for (int j = 0; j < n; j++) {
        int idx = (int)((scores[j] + range) * bins_per_unit);
        if (idx >= size) {
            idx = size - 1;
        }
        steps[j] = ((float)label - sigmoid[idx]) * alpha;
        *loss += -(double)(label ? log_sigmoid[idx] : log_sigmoid[size - 1 - idx]);
    }
    return 1;
}
#endif

/* Ask for every cache line of a row ahead of use. Noise rows are random rows of a
 * matrix far larger than the cache, so each costs a memory round trip; issuing all of a
 * block's requests together lets them overlap instead of queueing one after another. */
static inline void fw_prefetch_row(const float *row, int n)
{
    for (int i = 0; i < n; i += 16) {
        __builtin_prefetch(row + i, 1, 3);
    }
}

#endif
