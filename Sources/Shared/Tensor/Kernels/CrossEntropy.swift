import Foundation

/// Cross-entropy of rows of logits against target ids, and its gradient in place.
///
/// For each row: loss = logsumexp(z) − z[target]; the row is overwritten with
/// (softmax(z) − onehot(target)) · `gradientScale` (the scale is 1 / the number of trained
/// tokens of the optimiser step, so that the gradient is that of the mean loss).
/// Returns the sum of the rows' losses (in Double, so that long sums stay exact).
///
/// - Parameters: `logits`: (rows, V); `targets`: (rows), each in 0..<V.
public func crossEntropyWithGradient(_ logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, V: Int,
                                     gradientScale: Float) -> Double {
    let jobs = rows * V >= 1 << 16 ? min(Parallel.coreCount, rows) : 1
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(jobs, 1))
    defer { partial.deallocate() }
    SpinPool.shared.run(jobs: jobs) { job in
        var sum: Double = 0
        for r in (rows * job / jobs)..<(rows * (job + 1) / jobs) {
            let z = logits + r * V
            let target = Int(targets[r])
            let top = maxValue(z, V)
            let targetLogit = z[target]
            let total = expAndSum(z, V, shift: top)  // z ← exp(z − top)
            let logSum = logf(total)
            sum += Double(top + logSum - targetLogit)
            let k = gradientScale / total
            scaleInPlace(z, V, by: k)
            z[target] -= gradientScale
        }
        partial[job] = sum
    }
    var sum: Double = 0
    for j in 0..<jobs { sum += partial[j] }
    return sum
}

/// x[i] *= k over n values.
@inline(__always)
public func scaleInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, by k: Float) {
    var i = 0
    let raw = UnsafeMutableRawPointer(x)
    let kv = SIMD8<Float>(repeating: k)
    while i + 8 <= n {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * kv, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { x[i] *= k; i += 1 }
}
