import Dispatch
import Foundation

/// Work split over the machine's cores with `DispatchQueue.concurrentPerform`, each worker owning a
/// disjoint slice of the output (no locks on the hot path).
public enum Parallel {
    /// The number of threads lf's kernels use: the machine's cores (read once; on Linux from cgroup
    /// files), or fewer after `limitThreads`.
    public private(set) nonisolated(unsafe) static var coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Uses at most `n` threads in lf's kernels and in OpenBLAS (`--threads`). Call it at start-up,
    /// before any parallel work: the worker pool is sized on first use.
    public static func limitThreads(_ n: Int) {
        coreCount = max(1, min(n, coreCount))
        BLAS.threads = coreCount
    }

    /// `transform` applied to every element, in order, on up to `jobs` threads.
    public static func map<T, R>(_ items: [T], jobs: Int = coreCount, _ transform: (T) -> R) -> [R] {
        let jobs = max(1, min(jobs, items.count))
        if jobs == 1 { return items.map(transform) }
        var results = [R?](repeating: nil, count: items.count)
        results.withUnsafeMutableBufferPointer { out in
            items.withUnsafeBufferPointer { input in
                DispatchQueue.concurrentPerform(iterations: jobs) { job in
                    let lo = input.count * job / jobs, hi = input.count * (job + 1) / jobs
                    for i in lo..<hi { out[i] = transform(input[i]) }
                }
            }
        }
        return results.map { $0! }
    }

    /// As `map`, with each of `workers` (a tokenizer session, a scratch buffer: reference types
    /// that keep state across calls) used by one thread.
    public static func map<T, R, Worker: AnyObject>(_ items: [T], workers: [Worker], _ transform: (Worker, T) -> R) -> [R] {
        let jobs = max(1, min(workers.count, items.count))
        if jobs == 1, let worker = workers.first { return items.map { transform(worker, $0) } }
        var results = [R?](repeating: nil, count: items.count)
        results.withUnsafeMutableBufferPointer { out in
            items.withUnsafeBufferPointer { input in
                DispatchQueue.concurrentPerform(iterations: jobs) { job in
                    let lo = input.count * job / jobs, hi = input.count * (job + 1) / jobs
                    for i in lo..<hi { out[i] = transform(workers[job], input[i]) }
                }
            }
        }
        return results.map { $0! }
    }
}
