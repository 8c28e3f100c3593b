import Foundation

/// Widening of ggml tensor data to float32, bit-identical to ggml's `dequantize_row_*`
/// (ggml-quants.c at llama.cpp c392e5094): every value is computed in float32 with the operations in
/// ggml's order and no fused multiply-add.
///
/// The kernels take raw pointers and a count of elements that is a whole number of blocks; they
/// read blocks with unaligned loads (a GGUF file only guarantees its alignment for each tensor's
/// start, and in-memory buffers none at all).
public enum GGMLDequantize {
    /// A kernel: `count` elements (a multiple of the type's block size) from `src` to `dst`.
    typealias Kernel = (_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) -> Void

    static func kernel(for type: GGMLType) -> Kernel? {
        switch type {
        case .f32: return dequantizeF32
        case .f16: return dequantizeF16
        case .bf16: return dequantizeBF16
        case .q4_0: return dequantizeQ4_0
        case .q4_1: return dequantizeQ4_1
        case .q5_0: return dequantizeQ5_0
        case .q5_1: return dequantizeQ5_1
        case .q8_0: return dequantizeQ8_0
        case .q4K: return dequantizeQ4K
        case .q5K: return dequantizeQ5K
        case .q6K: return dequantizeQ6K
        default: return nil
        }
    }

    /// Dequantises `count` elements of `type` from `src` (which must hold `type.byteCount(elements:)`
    /// bytes) into `dst`, on the calling thread.
    public static func dequantize(_ type: GGMLType, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) throws {
        guard let kernel = kernel(for: type) else {
            throw LFError("dequantising \(type.name) is not supported",
                          hint: "supported types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K")
        }
        guard count >= 0, count % type.blockSize == 0 else {
            throw LFError("cannot dequantise \(count) \(type.name) elements: not a multiple of the block size \(type.blockSize)")
        }
        kernel(src, dst, count)
    }

    /// Read once: on Linux, Foundation answers `activeProcessorCount` by reading cgroup files.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Dequantises `rows` rows of `rowLength` elements, splitting the rows over the machine's cores
    /// when there is enough work for threads to pay off.
    static func dequantizeRows(_ type: GGMLType, kernel: Kernel, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>,
                               rows: Int, rowLength: Int, rowBytes: Int) {
        let total = rows * rowLength
        let minimumPerChunk = 1 << 16
        let chunks = min(rows, cores * 4, max(1, total / minimumPerChunk))
        if chunks <= 1 {
            kernel(src, dst, total)
            return
        }
        let rowsPerChunk = (rows + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let r0 = c * rowsPerChunk
            let r1 = min(rows, r0 + rowsPerChunk)
            guard r0 < r1 else { return }
            kernel(src + r0 * rowBytes, dst + r0 * rowLength, (r1 - r0) * rowLength)
        }
    }
}

extension GGUFFile {
    /// Widens `tensor` to float32 into `into`, which must have room for `tensor.elementCount` floats,
    /// row-major as stored (ne0 fastest). Large tensors are split by rows over all cores.
    public func dequantize(_ tensor: GGUFTensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
        guard let kernel = GGMLDequantize.kernel(for: tensor.type) else { throw unsupportedType(tensor) }
        let data = data(of: tensor)
        guard tensor.elementCount > 0, let base = data.baseAddress else { return }
        GGMLDequantize.dequantizeRows(tensor.type, kernel: kernel, from: base, into: dst,
                                      rows: tensor.rowCount, rowLength: tensor.rowLength, rowBytes: tensor.rowByteCount)
    }

    /// `tensor` widened to float32, row-major as stored.
    public func floats(_ tensor: GGUFTensorInfo) throws -> [Float] {
        guard tensor.type.canDequantize else { throw unsupportedType(tensor) }
        return try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            if let base = buffer.baseAddress {
                try dequantize(tensor, into: base)
            }
            initialized = tensor.elementCount
        }
    }

    private func unsupportedType(_ tensor: GGUFTensorInfo) -> LFError {
        error("dequantising \(tensor.type.name) is not supported (tensor \(tensor.name))", tensor: tensor.name,
              hint: "lf dequantises F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K; "
                  + "re-quantize the model to one of these with llama-quantize")
    }
}

// MARK: - Plain float types

/// Little-endian f16 at `p + offset`, widened exactly.
@inline(__always)
func loadF16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

/// F32: a copy.
func dequantizeF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
}

/// F16: IEEE half → float (exact, subnormals kept), as `GGML_FP16_TO_FP32`.
func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
        for k in 0 ..< 8 { dst[i + k] = Float(Float16(bitPattern: UInt16(littleEndian: v[k]))) }
        i += 8
    }
    while i < count {
        dst[i] = loadF16(src, i * 2)
        i += 1
    }
}

/// BF16: the top 16 bits of a float32 (`GGML_BF16_TO_FP32`).
func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
        let w = SIMD8<UInt32>(truncatingIfNeeded: v) &<< 16
        UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(w, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16)
        i += 1
    }
}
