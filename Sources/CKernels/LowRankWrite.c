// out = α·T·M with a small inner dimension k (a LoRA rank): see lf_low_rank_write in CKernels.h
// and LowRankProduct.swift for where it is used.
//
// Every path sums each value alone, j = 0, 1, … with fused multiply-adds from zero, then scales
// it: the same bits whatever the level, the tile, or the rows a core is given.
#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Rows first ..< last, columns c0 ..< n, one row at a time, summing in the output row itself so
// that the compiler can vectorise along it.
static void portable(ptrdiff_t first, ptrdiff_t last, ptrdiff_t c0, ptrdiff_t n, ptrdiff_t k, float alpha,
                     const float *t, ptrdiff_t t_row, ptrdiff_t t_column, const float *restrict m, ptrdiff_t ldm,
                     float *restrict out, ptrdiff_t ldo) {
    for (ptrdiff_t i = first; i < last; i++) {
        float *restrict o = out + i * ldo;
        for (ptrdiff_t c = c0; c < n; c++) o[c] = 0;
        for (ptrdiff_t j = 0; j < k; j++) {
            const float v = t[i * t_row + j * t_column];
            const float *restrict mj = m + j * ldm;
            for (ptrdiff_t c = c0; c < n; c++) o[c] = fmaf(v, mj[c], o[c]);
        }
        for (ptrdiff_t c = c0; c < n; c++) o[c] *= alpha;
    }
}

#if defined(__x86_64__)

// AVX-512: eight rows by 32 columns, 16 of the 32 registers holding sums; columns past n are
// masked off, so every column takes the vector path.
#define LF_ROW8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

__attribute__((target("avx512f")))
static void tile8x32(ptrdiff_t i, ptrdiff_t c, __mmask16 k0, __mmask16 k1, ptrdiff_t k, float alpha, const float *t,
                     ptrdiff_t t_row, ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
#define LF_ZERO(r) __m512 s##r##a = _mm512_setzero_ps(), s##r##b = _mm512_setzero_ps();
    LF_ROW8(LF_ZERO)
    const float *tp = t + i * t_row, *mp = m + c;
    for (ptrdiff_t j = 0; j < k; j++, tp += t_column, mp += ldm) {
        const __m512 ma = _mm512_maskz_loadu_ps(k0, mp), mb = _mm512_maskz_loadu_ps(k1, mp + 16);
#define LF_FMA(r)                                      \
    {                                                  \
        const __m512 d = _mm512_set1_ps(tp[r * t_row]); \
        s##r##a = _mm512_fmadd_ps(d, ma, s##r##a);     \
        s##r##b = _mm512_fmadd_ps(d, mb, s##r##b);     \
    }
        LF_ROW8(LF_FMA)
    }
    const __m512 scale = _mm512_set1_ps(alpha);
#define LF_STORE(r)                                                              \
    _mm512_mask_storeu_ps(out + (i + r) * ldo + c, k0, _mm512_mul_ps(s##r##a, scale));      \
    _mm512_mask_storeu_ps(out + (i + r) * ldo + c + 16, k1, _mm512_mul_ps(s##r##b, scale));
    LF_ROW8(LF_STORE)
#undef LF_ZERO
#undef LF_FMA
#undef LF_STORE
}

__attribute__((target("avx512f")))
static void tile1x32(ptrdiff_t i, ptrdiff_t c, __mmask16 k0, __mmask16 k1, ptrdiff_t k, float alpha, const float *t,
                     ptrdiff_t t_row, ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
    __m512 sa = _mm512_setzero_ps(), sb = _mm512_setzero_ps();
    const float *tp = t + i * t_row, *mp = m + c;
    for (ptrdiff_t j = 0; j < k; j++, tp += t_column, mp += ldm) {
        const __m512 d = _mm512_set1_ps(*tp);
        sa = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(k0, mp), sa);
        sb = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(k1, mp + 16), sb);
    }
    const __m512 scale = _mm512_set1_ps(alpha);
    _mm512_mask_storeu_ps(out + i * ldo + c, k0, _mm512_mul_ps(sa, scale));
    _mm512_mask_storeu_ps(out + i * ldo + c + 16, k1, _mm512_mul_ps(sb, scale));
}

__attribute__((target("avx512f")))
static void avx512(ptrdiff_t first, ptrdiff_t last, ptrdiff_t n, ptrdiff_t k, float alpha, const float *t, ptrdiff_t t_row,
                   ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
    for (ptrdiff_t i = first; i < last;) {
        const int eight = last - i >= 8;
        for (ptrdiff_t c = 0; c < n; c += 32) {
            const ptrdiff_t w = n - c;
            const __mmask16 k0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
            const __mmask16 k1 = w >= 32 ? 0xFFFF : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
            if (eight) {
                tile8x32(i, c, k0, k1, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
            } else {
                tile1x32(i, c, k0, k1, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
            }
        }
        i += eight ? 8 : 1;
    }
}

// AVX2: six rows by 16 columns, 12 of the 16 registers holding sums; the ragged columns go the
// portable way.
#define LF_ROW6(X) X(0) X(1) X(2) X(3) X(4) X(5)

__attribute__((target("avx2,fma")))
static void tile6x16(ptrdiff_t i, ptrdiff_t c, ptrdiff_t k, float alpha, const float *t, ptrdiff_t t_row,
                     ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
#define LF_ZERO(r) __m256 s##r##a = _mm256_setzero_ps(), s##r##b = _mm256_setzero_ps();
    LF_ROW6(LF_ZERO)
    const float *tp = t + i * t_row, *mp = m + c;
    for (ptrdiff_t j = 0; j < k; j++, tp += t_column, mp += ldm) {
        const __m256 ma = _mm256_loadu_ps(mp), mb = _mm256_loadu_ps(mp + 8);
#define LF_FMA(r)                                       \
    {                                                   \
        const __m256 d = _mm256_broadcast_ss(tp + r * t_row); \
        s##r##a = _mm256_fmadd_ps(d, ma, s##r##a);      \
        s##r##b = _mm256_fmadd_ps(d, mb, s##r##b);      \
    }
        LF_ROW6(LF_FMA)
    }
    const __m256 scale = _mm256_set1_ps(alpha);
#define LF_STORE(r)                                                            \
    _mm256_storeu_ps(out + (i + r) * ldo + c, _mm256_mul_ps(s##r##a, scale));  \
    _mm256_storeu_ps(out + (i + r) * ldo + c + 8, _mm256_mul_ps(s##r##b, scale));
    LF_ROW6(LF_STORE)
#undef LF_ZERO
#undef LF_FMA
#undef LF_STORE
}

__attribute__((target("avx2,fma")))
static void tile1x16(ptrdiff_t i, ptrdiff_t c, ptrdiff_t k, float alpha, const float *t, ptrdiff_t t_row,
                     ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
    __m256 sa = _mm256_setzero_ps(), sb = _mm256_setzero_ps();
    const float *tp = t + i * t_row, *mp = m + c;
    for (ptrdiff_t j = 0; j < k; j++, tp += t_column, mp += ldm) {
        const __m256 d = _mm256_broadcast_ss(tp);
        sa = _mm256_fmadd_ps(d, _mm256_loadu_ps(mp), sa);
        sb = _mm256_fmadd_ps(d, _mm256_loadu_ps(mp + 8), sb);
    }
    const __m256 scale = _mm256_set1_ps(alpha);
    _mm256_storeu_ps(out + i * ldo + c, _mm256_mul_ps(sa, scale));
    _mm256_storeu_ps(out + i * ldo + c + 8, _mm256_mul_ps(sb, scale));
}

__attribute__((target("avx2,fma")))
static void avx2(ptrdiff_t first, ptrdiff_t last, ptrdiff_t n, ptrdiff_t k, float alpha, const float *t, ptrdiff_t t_row,
                 ptrdiff_t t_column, const float *m, ptrdiff_t ldm, float *out, ptrdiff_t ldo) {
    const ptrdiff_t whole = n - n % 16;
    for (ptrdiff_t i = first; i < last;) {
        const ptrdiff_t count = last - i >= 6 ? 6 : 1;
        for (ptrdiff_t c = 0; c < whole; c += 16) {
            if (count == 6) {
                tile6x16(i, c, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
            } else {
                tile1x16(i, c, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
            }
        }
        if (whole < n) portable(i, i + count, whole, n, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
        i += count;
    }
}

#endif

void lf_low_rank_write(LFKernelLevel level, ptrdiff_t first, ptrdiff_t last, ptrdiff_t n, ptrdiff_t k, float alpha,
                       const float *t, ptrdiff_t t_row, ptrdiff_t t_column, const float *m, ptrdiff_t ldm,
                       float *out, ptrdiff_t ldo) {
#if defined(__x86_64__)
    if (level >= LFKernelLevelAVX512) {
        avx512(first, last, n, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
        return;
    }
    if (level >= LFKernelLevelAVX2) {
        avx2(first, last, n, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
        return;
    }
#endif
    portable(first, last, 0, n, k, alpha, t, t_row, t_column, m, ldm, out, ldo);
}
