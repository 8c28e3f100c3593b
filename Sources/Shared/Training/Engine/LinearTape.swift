/// What a linear layer's training forward keeps for its backward beyond its input: x·Aᵀ of its
/// slices side by side (rows, Σr), and DoRA's block output before the magnitude scale, one per
/// DoRA slice (nil for plain LoRA slices).
final class LinearTape: @unchecked Sendable {
    private(set) var preScale: [UnsafeMutablePointer<Float>?] = []
    private var capacities: [Int] = []
    private(set) var t: UnsafeMutablePointer<Float>?
    private var tCapacity = 0
    /// Whether `t` holds this pass's products (false when dropout gave each slice its own input).
    var hasT = false

    deinit {
        for p in preScale { p?.deallocate() }
        t?.deallocate()
    }

    /// The x·Aᵀ buffer, holding at least `count` floats.
    func tBuffer(count: Int) -> UnsafeMutablePointer<Float> {
        if let t, tCapacity >= count { return t }
        t?.deallocate()
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        t = p
        tCapacity = count
        return p
    }

    /// The buffer of adapter `index`, holding at least `count` floats.
    func buffer(_ index: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while preScale.count <= index { preScale.append(nil); capacities.append(0) }
        if let p = preScale[index], capacities[index] >= count { return p }
        preScale[index]?.deallocate()
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        preScale[index] = p
        capacities[index] = count
        return p
    }

    var bytes: Int { (capacities.reduce(0, +) + tCapacity) * 4 }
}

/// Scratch memory for the linear layers' training products (reused by every layer).
final class LinearScratch: @unchecked Sendable {
    /// Widened weight blocks.
    let weights = ScratchBuffer()
    /// x·Aᵀ and its gradient (rows, r).
    let t = ScratchBuffer(), dt = ScratchBuffer()
    /// Each core's share of dB (LoRAOutputGradient); dB transposed (OpenBLAS's path for other ranks).
    let partialB = ScratchBuffer(), transposedB = ScratchBuffer()
    /// Dropout: the mask and the dropped input (rows, in).
    let mask = ScratchBuffer(), dropped = ScratchBuffer()
    /// DoRA under dropout: B scaled by the magnitude, (d − 1) ⊙ dy.
    let scaled = ScratchBuffer()
    /// Off for evaluation passes (dropout only applies in training).
    var dropoutEnabled = true
}
