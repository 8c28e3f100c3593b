/// Copies and residual adds over whole activation matrices, split over lf's pool.
///
/// Training copies and adds megabytes between its products (a layer's input kept for the
/// backward, the residual stream); on one thread these left the other core waiting, 2–3% of a
/// training step on a 2-core machine (`perf`).

/// Below this many floats one thread does it: waking the pool costs more than it saves.
private let parallelFloats = 1 << 16

/// y = x over n floats.
func parallelCopy(_ y: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, count n: Int) {
    splitRange(n) { lo, hi in (y + lo).update(from: x + lo, count: hi - lo) }
}

/// x += y over n floats; with `copy`, also copy = x afterwards (the residual stream kept for the
/// backward pass) in the same sweep.
func parallelAdd(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int,
                 copy: UnsafeMutablePointer<Float>? = nil) {
    splitRange(n) { lo, hi in
        add(x + lo, y + lo, count: hi - lo)
        copy.map { ($0 + lo).update(from: x + lo, count: hi - lo) }
    }
}

/// Runs `body(lo, hi)` over parts of 0..<n on the pool's threads (on this one when n is small).
private func splitRange(_ n: Int, _ body: (Int, Int) -> Void) {
    let jobs = n >= parallelFloats ? Parallel.coreCount : 1
    // Parts in whole cache lines, so that no two threads write the same one.
    let part = (n / jobs + 15) & ~15
    SpinPool.shared.run(jobs: jobs) { job in
        let lo = min(n, job * part), hi = job == jobs - 1 ? n : min(n, lo + part)
        if lo < hi { body(lo, hi) }
    }
}
