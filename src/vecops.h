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

/* y += alpha * x */
static inline void fw_axpy(float alpha, const float *restrict x, float *restrict y, int n)
{
#pragma omp simd
    for (int i = 0; i < n; i++) {
        y[i] += alpha * x[i];
    }
}

static inline void fw_zero(float *restrict y, int n)
{
    for (int i = 0; i < n; i++) {
        y[i] = 0.0f;
    }
}

static inline void fw_scale(float alpha, float *restrict y, int n)
{
#pragma omp simd
    for (int i = 0; i < n; i++) {
        y[i] *= alpha;
    }
}

#endif
