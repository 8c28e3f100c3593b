import Foundation
import Testing

/// Compares a tensor with its reference, element by element, and records one issue that says where
/// it differs most: the name, the max |diff| and its index, the max relative diff, and the first
/// differing pairs (STYLE.md #4: a golden test that can fail and says why).
public func checkTensor(_ name: String, actual: [Float], expected: [Float], atol: Float, rtol: Float = 0,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(name): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst: Float = 0, worstIndex = 0, worstRelative: Float = 0
    var bad: [Int] = []
    for i in actual.indices {
        let d = abs(actual[i] - expected[i])
        if !(d <= atol + rtol * abs(expected[i])) { if bad.count < 5 { bad.append(i) } }
        if d > worst || d.isNaN { worst = d; worstIndex = i }
        if expected[i] != 0 { worstRelative = max(worstRelative, d / abs(expected[i])) }
    }
    if !bad.isEmpty {
        let pairs = bad.map { "[\($0)] \(actual[$0]) vs \(expected[$0])" }.joined(separator: ", ")
        Issue.record("\(name): max |diff| \(worst) at [\(worstIndex)] (atol \(atol), rtol \(rtol)), max rel \(worstRelative); first: \(pairs)",
                     sourceLocation: sourceLocation)
    }
}

/// The largest |a − b|.
public func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
