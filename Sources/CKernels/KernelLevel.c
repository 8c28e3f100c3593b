#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

// The CPU's flags say what it can do; XCR0 says which registers the operating system saves on a
// context switch, without which the instructions fault (or their upper halves get lost).
static LFKernelLevel detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return LFKernelLevelPortable;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return LFKernelLevelPortable;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    int ymm = (lo & 0x6) == 0x6, zmm = (lo & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return LFKernelLevelPortable;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx512f && zmm && fma) return LFKernelLevelAVX512;
    if (avx2 && fma && ymm) return LFKernelLevelAVX2;
    return LFKernelLevelPortable;
}
#else
static LFKernelLevel detect(void) { return LFKernelLevelPortable; }
#endif

LFKernelLevel lf_kernel_level_supported(void) {
    // Racing first calls store the same value; atomics keep that well-defined.
    static int cached = -1;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level < 0) {
        level = (int)detect();
        __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    }
    return (LFKernelLevel)level;
}
