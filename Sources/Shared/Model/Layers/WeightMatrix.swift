/// How a model's frozen weight matrices are held in memory (`TransformerModel.load`,
/// lf-train's `--base-dtype`, lf-eval's `--dtype`).
public enum WeightFormat: String, CaseIterable, Sendable {
    /// float32: exact.
    case f32
    /// bfloat16, widened inside each product: half the memory.
    case bf16
    /// Blocks of 32 int8 values with a float16 scale (`Q8Matrix`): 8.5 bits a weight.
    case q8
    /// Blocks of 32 nibbles with a float16 scale and minimum (`Q4Matrix`): 5 bits a weight.
    case q4

    /// q8 and q4, which hold the transformer blocks' matrices only (the embedding and LM head stay
    /// bf16).
    public var isBlockQuantized: Bool { self == .q8 || self == .q4 }
}

/// A frozen weight matrix [out, in] as it is held in memory: float32, bfloat16, or block-quantised
/// (q8, q4), the last three widened to float32 inside each product.
public enum WeightMatrix: @unchecked Sendable {
    case f32(UnsafeMutablePointer<Float>)
    case bf16(UnsafeMutablePointer<UInt16>)
    case q8(Q8Matrix)
    case q4(Q4Matrix)

    /// Rows o..<o+n of a matrix with `cols` columns, as float32 (for the products that need a
    /// float32 block: batched forward, the input gradient, DoRA norms, embeddings).
    func widenRows(_ o: Int, _ n: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32(let w): out.update(from: w + o * cols, count: n * cols)
        case .bf16(let w): HalfPrecision.widenBF16(w + o * cols, out, count: n * cols)
        case .q8(let w): w.dequantizeRows(o, n, into: out)
        case .q4(let w): w.dequantizeRows(o, n, into: out)
        }
    }

    /// y = W x for one input row (decoding), reading W in its own format.
    func matVec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        switch self {
        case .f32(let w): MatVec.f32(y, w, x, rows: rows, cols: cols)
        case .bf16(let w): MatVec.bf16(y, w, x, rows: rows, cols: cols)
        case .q8(let w): w.matVec(y, x)
        case .q4(let w): w.matVec(y, x)
        }
    }

    /// Whether two matrices read the same memory (a tied embedding and LM head).
    func sharesStorage(with other: WeightMatrix) -> Bool {
        switch (self, other) {
        case (.f32(let a), .f32(let b)): a == b
        case (.bf16(let a), .bf16(let b)): a == b
        default: false  // the embedding and LM head are never block-quantised
        }
    }

    /// The float32 storage, when the matrix is held in float32 (no widening needed).
    var float32: UnsafeMutablePointer<Float>? {
        if case .f32(let w) = self { return w }
        return nil
    }
}

extension WeightFormat {
    /// lf-train's `base_dtype`.
    public init(_ base: TrainingConfiguration.BaseDType) {
        switch base {
        case .f32: self = .f32
        case .bf16: self = .bf16
        case .q8: self = .q8
        case .q4: self = .q4
        }
    }
}
