import Foundation
import Shared
import Testing

@Suite struct BLASKernelChoiceTests {
    static func cpuinfo(_ flags: String) -> String {
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 207\nflags\t\t: \(flags)\nbugs\t\t: spectre_v1\n"
    }
    static let emeraldRapids = cpuinfo("fpu sse sse2 ssse3 fma avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 amx_tile")

    @Test func aCPUNewerThanOpenBLASGetsTheKernelsItsFlagsAllow() {
        // Debian's OpenBLAS 0.3.21 loads Prescott (SSE3) kernels on Emerald Rapids.
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.emeraldRapids, loadedCore: "Prescott") == "SkylakeX")
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.emeraldRapids, loadedCore: "Haswell") == "SkylakeX")
        let avx2Only = Self.cpuinfo("sse sse2 fma avx avx2")
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: avx2Only, loadedCore: "Core2") == "Haswell")
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.cpuinfo("sse sse2 avx"), loadedCore: "Prescott") == "Sandybridge")
    }

    @Test func aChoiceThatMatchesTheCPUIsKept() {
        for core in ["SkylakeX", "Cooperlake", "SapphireRapids", "skylakex"] {
            #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.emeraldRapids, loadedCore: core) == nil)
        }
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.cpuinfo("sse sse2 fma avx avx2"), loadedCore: "Zen") == nil)
        // AVX-512 without BW/DQ/VL (Knights Landing) is not enough for SkylakeX's kernels.
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.cpuinfo("fma avx avx2 avx512f avx512cd"), loadedCore: "Haswell") == nil)
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: Self.cpuinfo("sse sse2 sse3"), loadedCore: "Prescott") == nil)
    }

    @Test func unreadableCPUInformationChangesNothing() {
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: nil, loadedCore: "Prescott") == nil)
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: "processor : 0\n", loadedCore: "Prescott") == nil)
    }
}
