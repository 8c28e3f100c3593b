/// Owns a set of buffers (weights, caches, scratch) and frees them together; the tensors handed
/// out are views into it, valid while the arena lives.
public final class Arena: @unchecked Sendable {
    private var blocks: [UnsafeMutableRawPointer] = []
    public private(set) var bytes = 0

    public init() {}

    deinit {
        for b in blocks { b.deallocate() }
    }

    /// `count` floats, zeroed.
    public func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = raw(count * 4).bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: count)
        return p
    }

    /// `count` 16-bit values, zeroed.
    public func halves(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        let p = raw(count * 2).bindMemory(to: UInt16.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: count)
        return p
    }

    /// `count` bytes, zeroed (block-quantised weights).
    public func byteBuffer(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        let p = raw(count).bindMemory(to: UInt8.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: count)
        return p
    }

    private func raw(_ byteCount: Int) -> UnsafeMutableRawPointer {
        // 64-byte alignment: cache lines and any SIMD width.
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        blocks.append(p)
        bytes += byteCount
        return p
    }
}

/// A growable float buffer reused across calls (activations whose size depends on the input).
public final class ScratchBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// At least `count` floats (contents undefined after growing).
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity * 2)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }
}
