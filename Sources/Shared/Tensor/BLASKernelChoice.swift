import CBLAS
import Foundation

/// Makes OpenBLAS use the matrix kernels this CPU can run.
///
/// Debian's OpenBLAS (0.3.21, built with DYNAMIC_ARCH) picks its kernels when it is loaded, from the
/// CPU's family and model number. A CPU newer than the library — Intel's Emerald Rapids (model 0xCF)
/// for one — is not in its table and gets the "Prescott" kernels (SSE3): every matrix product runs 4–5×
/// slower on a CPU with AVX-512. The choice can only be changed before the library loads, through
/// OPENBLAS_CORETYPE, so a tool whose OpenBLAS picked kernels below what the CPU reports (in
/// /proc/cpuinfo's flags) sets it and executes itself again: same process, arguments and streams.
/// An OPENBLAS_CORETYPE set by the user (not empty) is always left alone.
public enum BLASKernelChoice {
    /// The instruction-set tiers OpenBLAS's x86-64 kernels are written for, weakest first.
    enum Tier: Int, Comparable {
        case sse = 0, avx, avx2, avx512
        static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

        /// The OpenBLAS core type whose kernels need exactly this tier.
        var coreType: String? {
            switch self {
            case .sse: nil
            case .avx: "Sandybridge"
            case .avx2: "Haswell"
            case .avx512: "SkylakeX"
            }
        }
    }

    /// The tier of an OpenBLAS core name (`openblas_get_corename()`); anything unlisted counts as SSE.
    static func tier(ofCore name: String) -> Tier {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": .avx512
        case "haswell", "zen", "excavator": .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": .avx
        default: .sse
        }
    }

    /// The tier a CPU supports, from the `flags` line of /proc/cpuinfo (which lists only what the
    /// kernel lets programs use). SkylakeX's kernels use AVX-512 F, BW, DQ and VL.
    static func tier(ofFlags flags: Set<Substring>) -> Tier {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return .avx512 }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return .avx2 }
        if flags.contains("avx") { return .avx }
        return .sse
    }

    /// The core type to ask OpenBLAS for, or nil when its own choice already matches the CPU (or the
    /// CPU's flags cannot be read).
    public static func betterCoreType(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                                      loadedCore: String = currentCore) -> String? {
        guard let cpuinfo, let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        let flags = Set(line[line.index(after: colon)...].split(separator: " "))
        let cpu = tier(ofFlags: flags)
        return cpu > tier(ofCore: loadedCore) ? cpu.coreType : nil
    }

    /// The kernels OpenBLAS chose when it loaded.
    public static var currentCore: String { String(cString: openblas_get_corename()) }

    /// Executes this program again with OPENBLAS_CORETYPE set when OpenBLAS chose kernels below the
    /// CPU. Call first thing in `main`, before any thread starts. Returns when nothing needs changing
    /// or the exec fails (the tool then runs on the kernels it has).
    public static func reexecIfMismatched() {
        #if os(Linux)
        guard (ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "").isEmpty,
              String(cString: openblas_get_config()).contains("DYNAMIC_ARCH"),
              let core = betterCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
