/* IEEE half precision (binary16) to float32, for the neighbour scan over float16 files.
 *
 * Why a C header: the AVX2 build of src/_neighbours.pyx is also compiled with -mf16c,
 * and there one instruction (vcvtph2ps) widens eight halves; Cython cannot reach the
 * intrinsic. Every other build uses the portable conversion below, which the compiler
 * vectorises under `omp simd` (-fopenmp-simd, as in vecops.h).
 *
 * The portable conversion: a half's exponent and mantissa, shifted left by 13, sit in a
 * float's exponent and mantissa fields with the exponent biased by 15 instead of 127;
 * multiplying by 2^112 rebiases it. The same multiplication turns a half's subnormal
 * (read as a float subnormal) into the right normal float, so only infinities and NaNs,
 * whose exponent is all ones, need setting apart (their payload kept). Every half is
 * exactly a float32, so the conversion is exact and the builds agree bit for bit.
 */
#ifndef FASTW2V_HALVES_H
#define FASTW2V_HALVES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__F16C__)
#include <immintrin.h>
#endif

static inline float fw_half_to_float(uint16_t half)
{
    uint32_t magnitude = (uint32_t)(half & 0x7fffu) << 13;
    uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
    /* All ones for infinity and NaN, else zero: a mask, not a branch, so that the loop
     * of fw_halves_to_floats vectorises. */
    uint32_t special = 0u - (uint32_t)(magnitude >= (0x7c00u << 13));
    float scaled, value;
    uint32_t bits;
    memcpy(&scaled, &magnitude, sizeof scaled);
    scaled *= 0x1p112f;
    memcpy(&bits, &scaled, sizeof bits);
    bits = (bits & ~special) | ((magnitude | 0x7f800000u) & special);
    bits |= sign;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* out[i] = halves[i] as float32, for i < n. */
static inline void fw_halves_to_floats(const uint16_t *restrict halves, float *restrict out,
                                       ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) {
        __m128i packed = _mm_loadu_si128((const __m128i *)(halves + i));
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(packed));
    }
#endif
#pragma omp simd
    for (ptrdiff_t j = i; j < n; j++) {
        out[j] = fw_half_to_float(halves[j]);
    }
}

#endif
