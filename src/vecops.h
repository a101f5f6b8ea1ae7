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
    for (; j < n; j++) {
        fw_axpy(coef[j], rows[j], y, d);
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

static inline void fw_zero(float *restrict y, int n)
{
    for (int i = 0; i < n; i++) {
        y[i] = 0.0f;
    }
}

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
