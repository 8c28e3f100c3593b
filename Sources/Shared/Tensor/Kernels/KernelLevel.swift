import CKernels
import Foundation

/// The instruction set lf's C kernels (Sources/CKernels) run with. Every level gives the same
/// bits; the higher ones are faster.
public enum KernelLevel: Int, CaseIterable, Comparable, Sendable {
    case portable, avx2, avx512

    /// The best level this machine supports (its CPU and operating system).
    public static let supported = KernelLevel(lf_kernel_level_supported())

    /// The level the kernels run with: `supported`, or a lower one named by the environment
    /// variable LF_KERNELS (`portable`, `avx2`, `avx512`), to compare them or to rule one out.
    public static let current: KernelLevel = {
        guard let name = ProcessInfo.processInfo.environment["LF_KERNELS"], !name.isEmpty else { return supported }
        guard let named = allCases.first(where: { "\($0)" == name }) else {
            FileHandle.standardError.write(Data("lf: LF_KERNELS=\(name) is not portable, avx2 or avx512; using \(supported)\n".utf8))
            return supported
        }
        return min(named, supported)
    }()

    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

    init(_ level: LFKernelLevel) {
        switch level {
        case LFKernelLevelAVX512: self = .avx512
        case LFKernelLevelAVX2: self = .avx2
        default: self = .portable
        }
    }

    var c: LFKernelLevel {
        switch self {
        case .portable: LFKernelLevelPortable
        case .avx2: LFKernelLevelAVX2
        case .avx512: LFKernelLevelAVX512
        }
    }
}
