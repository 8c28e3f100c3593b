import Foundation
import Shared
import TestSupport
import Testing

@Suite struct BLASKernelToolTests {
    @Test func theToolsRunTheKernelsThisCPUAllows() throws {
        // Without OPENBLAS_CORETYPE, a tool must end up on kernels at least as strong as the CPU's
        // flags allow (on a CPU OpenBLAS does not know, only the re-exec gets it there); a user's
        // OPENBLAS_CORETYPE is obeyed as given.
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        let chosen = try Tools.run("lf-bench", ["blas"], environment: environment)
        #expect(chosen.status == 0)
        let core = chosen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!core.isEmpty)
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: cpuinfo, loadedCore: core) == nil, "OpenBLAS runs \(core) kernels")
        // An empty OPENBLAS_CORETYPE counts as unset.
        environment["OPENBLAS_CORETYPE"] = ""
        let empty = try Tools.run("lf-bench", ["blas"], environment: environment).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(BLASKernelChoice.betterCoreType(cpuinfo: cpuinfo, loadedCore: empty) == nil, "OpenBLAS runs \(empty) kernels")
        environment["OPENBLAS_CORETYPE"] = "Prescott"
        #expect(try Tools.run("lf-bench", ["blas"], environment: environment).stdout == "Prescott\n")
    }
}
