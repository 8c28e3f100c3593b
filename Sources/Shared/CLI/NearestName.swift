/// "Did you mean …?" for a misspelled key or name: the candidate with the fewest single-character
/// edits, if it is close enough to be a plausible typo (at most a third of the name's length, and
/// at least 2 edits allowed).
public func nearestName(to name: String, among candidates: [String]) -> String? {
    let target = Array(name.lowercased().unicodeScalars)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(target, Array(candidate.lowercased().unicodeScalars))
        if d < (best?.distance ?? .max) { best = (candidate, d) }
    }
    guard let best, best.distance <= max(2, target.count / 3) else { return nil }
    return best.name
}

/// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
