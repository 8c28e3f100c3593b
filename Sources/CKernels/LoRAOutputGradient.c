// LoRA's output-gradient products in one pass over dy: see lf_lora_output_gradient in CKernels.h
// and LoRAOutputGradient.swift for why they go together.
//
// Each value of dy is loaded once, broadcast, and feeds a row of dt's sums (held in registers
// across the whole pass over out) and a row of the dB sums (streamed through the cache with B's row).
#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// One row at a time, eight columns of the rank at a time (rank is a multiple of 8).
static void portable(ptrdiff_t first, ptrdiff_t last, ptrdiff_t out, ptrdiff_t rank, float alpha, const float *dy,
                     ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT,
                     ptrdiff_t ld_dt) {
    for (ptrdiff_t j = 0; j < rank; j += 8) {
        for (ptrdiff_t i = first; i < last; i++) {
            float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            const float *y = dy + i * ldy, *ti = t + i * ldt + j;
            for (ptrdiff_t o = 0; o < out; o++) {
                const float d = y[o];
                const float *bo = b + o * rank + j;
                float *g = sums + o * rank + j;
                for (int l = 0; l < 8; l++) {
                    acc[l] = fmaf(d, bo[l], acc[l]);
                    g[l] = fmaf(d, ti[l], g[l]);
                }
            }
            for (int l = 0; l < 8; l++) dtT[(j + l) * ld_dt + i] = acc[l] * alpha;
        }
    }
}

#if defined(__x86_64__)

#define LF_ROW8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

// AVX-512: eight rows by 16 columns of the rank (or 8, masked), the eight rows' t values and dt
// sums in 16 of the 32 registers.
__attribute__((target("avx512f")))
static void tile8(ptrdiff_t i, ptrdiff_t j, __mmask16 mask, ptrdiff_t width, ptrdiff_t out, ptrdiff_t rank, float alpha,
                  const float *dy, ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT,
                  ptrdiff_t ld_dt) {
#define LF_START(r)                                                        \
    __m512 a##r = _mm512_setzero_ps();                                     \
    const __m512 t##r = _mm512_maskz_loadu_ps(mask, t + (i + r) * ldt + j); \
    const float *y##r = dy + (i + r) * ldy;
    LF_ROW8(LF_START)
    const float *bp = b + j;
    float *gp = sums + j;
    for (ptrdiff_t o = 0; o < out; o++, bp += rank, gp += rank) {
        const __m512 bv = _mm512_maskz_loadu_ps(mask, bp);
        __m512 g = _mm512_maskz_loadu_ps(mask, gp);
#define LF_FMA(r)                                  \
    {                                              \
        const __m512 d = _mm512_set1_ps(y##r[o]); \
        a##r = _mm512_fmadd_ps(d, bv, a##r);       \
        g = _mm512_fmadd_ps(d, t##r, g);           \
    }
        LF_ROW8(LF_FMA)
        _mm512_mask_storeu_ps(gp, mask, g);
    }
    const __m512 scale = _mm512_set1_ps(alpha);
    float lanes[16];
#define LF_PUT(r)                                                                      \
    _mm512_storeu_ps(lanes, _mm512_mul_ps(a##r, scale));                               \
    for (ptrdiff_t l = 0; l < width; l++) dtT[(j + l) * ld_dt + i + r] = lanes[l];
    LF_ROW8(LF_PUT)
#undef LF_START
#undef LF_FMA
#undef LF_PUT
}

__attribute__((target("avx512f")))
static void tile1(ptrdiff_t i, ptrdiff_t j, __mmask16 mask, ptrdiff_t width, ptrdiff_t out, ptrdiff_t rank, float alpha,
                  const float *dy, ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT,
                  ptrdiff_t ld_dt) {
    __m512 a = _mm512_setzero_ps();
    const __m512 tv = _mm512_maskz_loadu_ps(mask, t + i * ldt + j);
    const float *y = dy + i * ldy, *bp = b + j;
    float *gp = sums + j;
    for (ptrdiff_t o = 0; o < out; o++, bp += rank, gp += rank) {
        const __m512 d = _mm512_set1_ps(y[o]);
        a = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(mask, bp), a);
        _mm512_mask_storeu_ps(gp, mask, _mm512_fmadd_ps(d, tv, _mm512_maskz_loadu_ps(mask, gp)));
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, _mm512_mul_ps(a, _mm512_set1_ps(alpha)));
    for (ptrdiff_t l = 0; l < width; l++) dtT[(j + l) * ld_dt + i] = lanes[l];
}

__attribute__((target("avx512f")))
static void avx512(ptrdiff_t first, ptrdiff_t last, ptrdiff_t out, ptrdiff_t rank, float alpha, const float *dy,
                   ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT, ptrdiff_t ld_dt) {
    for (ptrdiff_t j = 0; j < rank; j += 16) {
        const ptrdiff_t width = rank - j >= 16 ? 16 : 8;
        const __mmask16 mask = width == 16 ? 0xFFFF : 0x00FF;
        ptrdiff_t i = first;
        for (; i + 8 <= last; i += 8) tile8(i, j, mask, width, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
        for (; i < last; i++) tile1(i, j, mask, width, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
    }
}

// AVX2: four rows by 16 columns of the rank, their dt sums in 8 of the 16 registers; single rows
// and the last 8 columns of an odd multiple of 8 take eight columns at a time.
#define LF_ROW4(X) X(0) X(1) X(2) X(3)

__attribute__((target("avx2,fma")))
static void put8(__m256 v, float alpha, ptrdiff_t i, ptrdiff_t j, float *dtT, ptrdiff_t ld_dt) {
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_mul_ps(v, _mm256_set1_ps(alpha)));
    for (int l = 0; l < 8; l++) dtT[(j + l) * ld_dt + i] = lanes[l];
}

__attribute__((target("avx2,fma")))
static void tile4x16(ptrdiff_t i, ptrdiff_t j, ptrdiff_t out, ptrdiff_t rank, float alpha, const float *dy, ptrdiff_t ldy,
                     const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT, ptrdiff_t ld_dt) {
#define LF_START(r)                                                                          \
    __m256 a##r##a = _mm256_setzero_ps(), a##r##b = _mm256_setzero_ps();                     \
    const __m256 t##r##a = _mm256_loadu_ps(t + (i + r) * ldt + j),                           \
                 t##r##b = _mm256_loadu_ps(t + (i + r) * ldt + j + 8);                       \
    const float *y##r = dy + (i + r) * ldy;
    LF_ROW4(LF_START)
    const float *bp = b + j;
    float *gp = sums + j;
    for (ptrdiff_t o = 0; o < out; o++, bp += rank, gp += rank) {
        const __m256 ba = _mm256_loadu_ps(bp), bb = _mm256_loadu_ps(bp + 8);
        __m256 ga = _mm256_loadu_ps(gp), gb = _mm256_loadu_ps(gp + 8);
#define LF_FMA(r)                                       \
    {                                                   \
        const __m256 d = _mm256_broadcast_ss(y##r + o); \
        a##r##a = _mm256_fmadd_ps(d, ba, a##r##a);      \
        a##r##b = _mm256_fmadd_ps(d, bb, a##r##b);      \
        ga = _mm256_fmadd_ps(d, t##r##a, ga);           \
        gb = _mm256_fmadd_ps(d, t##r##b, gb);           \
    }
        LF_ROW4(LF_FMA)
        _mm256_storeu_ps(gp, ga);
        _mm256_storeu_ps(gp + 8, gb);
    }
#define LF_PUT(r)                                  \
    put8(a##r##a, alpha, i + r, j, dtT, ld_dt);     \
    put8(a##r##b, alpha, i + r, j + 8, dtT, ld_dt);
    LF_ROW4(LF_PUT)
#undef LF_START
#undef LF_FMA
#undef LF_PUT
}

__attribute__((target("avx2,fma")))
static void tile1x8(ptrdiff_t i, ptrdiff_t j, ptrdiff_t out, ptrdiff_t rank, float alpha, const float *dy, ptrdiff_t ldy,
                    const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT, ptrdiff_t ld_dt) {
    __m256 a = _mm256_setzero_ps();
    const __m256 tv = _mm256_loadu_ps(t + i * ldt + j);
    const float *y = dy + i * ldy, *bp = b + j;
    float *gp = sums + j;
    for (ptrdiff_t o = 0; o < out; o++, bp += rank, gp += rank) {
        const __m256 d = _mm256_broadcast_ss(y + o);
        a = _mm256_fmadd_ps(d, _mm256_loadu_ps(bp), a);
        _mm256_storeu_ps(gp, _mm256_fmadd_ps(d, tv, _mm256_loadu_ps(gp)));
    }
    put8(a, alpha, i, j, dtT, ld_dt);
}

__attribute__((target("avx2,fma")))
static void avx2(ptrdiff_t first, ptrdiff_t last, ptrdiff_t out, ptrdiff_t rank, float alpha, const float *dy,
                 ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt, float *sums, float *dtT, ptrdiff_t ld_dt) {
    for (ptrdiff_t j = 0; j < rank;) {
        const ptrdiff_t width = rank - j >= 16 ? 16 : 8;
        ptrdiff_t i = first;
        if (width == 16) {
            for (; i + 4 <= last; i += 4) tile4x16(i, j, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
        }
        // Single rows: both halves of a 16-wide block in turn keep each value's order of rows.
        for (; i < last; i++) {
            for (ptrdiff_t h = 0; h < width; h += 8) tile1x8(i, j + h, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
        }
        j += width;
    }
}

#endif

void lf_lora_output_gradient(LFKernelLevel level, ptrdiff_t first, ptrdiff_t last, ptrdiff_t out, ptrdiff_t rank,
                             float alpha, const float *dy, ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt,
                             float *sums, float *dtT, ptrdiff_t ld_dt) {
#if defined(__x86_64__)
    if (level >= LFKernelLevelAVX512) {
        avx512(first, last, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
        return;
    }
    if (level >= LFKernelLevelAVX2) {
        avx2(first, last, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
        return;
    }
#endif
    portable(first, last, out, rank, alpha, dy, ldy, b, t, ldt, sums, dtT, ld_dt);
}
