// Kernels written in C so that they can use the instruction set the machine has (AVX-512,
// AVX2 + FMA), chosen at run time: Swift compiles a whole module for one CPU, and lf's release
// builds target haswell so that they run on any x86-64-v3 machine.
#ifndef LF_CKERNELS_H
#define LF_CKERNELS_H

#include <stddef.h>

/// The instruction sets the kernels have paths for, best last.
typedef enum {
    LFKernelLevelPortable = 0,
    LFKernelLevelAVX2 = 1,
    LFKernelLevelAVX512 = 2,
} LFKernelLevel;

/// The best level this machine supports: the CPU and the operating system.
LFKernelLevel lf_kernel_level_supported(void);

/// out[i, c] = alpha · Σ_j T[i, j] · M[j, c] for rows first ..< last and columns 0 ..< n, with
/// T[i, j] at t[i·t_row + j·t_column] and M[j, c] at m[j·ldm + c]; out's row i at out + i·ldo is
/// overwritten. Each value is summed in the order j = 0, 1, … with fused multiply-adds, then scaled,
/// at every level: the levels give the same bits. `level` must be supported.
void lf_low_rank_write(LFKernelLevel level, ptrdiff_t first, ptrdiff_t last, ptrdiff_t n, ptrdiff_t k, float alpha,
                       const float *t, ptrdiff_t t_row, ptrdiff_t t_column, const float *m, ptrdiff_t ldm,
                       float *out, ptrdiff_t ldo);

/// LoRA's two products of the output gradient dy for rows first ..< last (one core's share):
///     dtᵀ[j, i] = α · Σ_o dy[i, o] · B[o, j]       written at dtT[j·ld_dt + i]
///     sums[o, j] += Σ_i dy[i, o] · t[i, j]          (unscaled; the caller adds α·sums into dB)
/// with dy's row i at dy + i·ldy, B (out × rank) and sums (out × rank) contiguous, t's row i at
/// t + i·ldt. `rank` is a multiple of 8. dt's values are summed o = 0, 1, … from zero with fused
/// multiply-adds, then scaled; sums' values take the rows in order, also fused: the same bits at
/// every level. `level` must be supported.
void lf_lora_output_gradient(LFKernelLevel level, ptrdiff_t first, ptrdiff_t last, ptrdiff_t out, ptrdiff_t rank,
                             float alpha, const float *dy, ptrdiff_t ldy, const float *b, const float *t, ptrdiff_t ldt,
                             float *sums, float *dtT, ptrdiff_t ld_dt);

#endif
