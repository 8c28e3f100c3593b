import Foundation

/// How the next token is chosen from the logits, as transformers' `generate` does it: the
/// repetition penalty first, then temperature, top-k, top-p and min-p, then a draw from the
/// remaining distribution; temperature 0 is greedy (the first maximum on ties, like torch.argmax).
public struct SamplingOptions: Sendable, Equatable {
    public var temperature: Float = 0
    public var topK: Int = 0
    public var topP: Float = 1
    public var minP: Float = 0
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0, repetitionPenalty: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    public var isGreedy: Bool { temperature == 0 }
}

/// A seeded pseudo-random source (SplitMix64): the same seed gives the same draws on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public struct Sampler {
    public let options: SamplingOptions
    private var rng: SplitMix64

    public init(_ options: SamplingOptions) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
    }

    /// The next token for `logits` (modified in place), given the ids seen so far (for the penalty).
    public mutating func next(_ logits: UnsafeMutablePointer<Float>, vocabulary V: Int, history: [Int32]) -> Int32 {
        if options.repetitionPenalty != 1 {
            let p = options.repetitionPenalty
            for id in Set(history) where Int(id) < V {
                let v = logits[Int(id)]
                logits[Int(id)] = v < 0 ? v * p : v / p
            }
        }
        if options.isGreedy {
            var best = 0
            for i in 1..<V where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        for i in 0..<V { logits[i] /= options.temperature }
        // Candidates sorted by logit, highest first (stable: lower id first on ties).
        var order = Array(0..<V)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var keep = V
        if options.topK > 0 { keep = min(keep, options.topK) }
        let maxLogit = logits[order[0]]
        var probabilities = order.prefix(keep).map { expf(logits[$0] - maxLogit) }
        var total = probabilities.reduce(0, +)
        if options.topP < 1 {
            // The smallest set whose probability reaches top_p (at least one token).
            var cumulative: Float = 0
            var n = 0
            for p in probabilities {
                cumulative += p / total
                n += 1
                if cumulative >= options.topP { break }
            }
            keep = n
            probabilities = Array(probabilities.prefix(keep))
            total = probabilities.reduce(0, +)
        }
        if options.minP > 0 {
            // Tokens below min_p × the top probability are dropped.
            let threshold = options.minP * probabilities[0]
            keep = max(1, probabilities.prefix { $0 >= threshold }.count)
            probabilities = Array(probabilities.prefix(keep))
            total = probabilities.reduce(0, +)
        }
        var draw = Float(Double(rng.next() >> 11) / Double(1 << 53)) * total
        for (k, p) in probabilities.enumerated() {
            draw -= p
            if draw <= 0 { return Int32(order[k]) }
        }
        return Int32(order[probabilities.count - 1])
    }
}
