import CZstd
import Foundation

/// A small safe layer over libzstd: one-frame compression, and decompression that never writes more
/// than the caller allows and turns every libzstd failure into an `LFError` that says what was wrong.
///
/// Frames are written with their content size and a content checksum, so a reader can size its
/// buffer before decompressing and a flipped bit is caught by zstd itself, not by a later parser.
public enum Zstd {
    /// The first four bytes of every zstd frame (little-endian 0xFD2FB528).
    public static let frameMagic: UInt32 = 0xFD2F_B528
    /// Skippable frames carry any bytes a zstd decoder must skip: magic 0x184D2A50 … 0x184D2A5F,
    /// then a little-endian u32 size, then that many bytes.
    public static let skippableMagicBase: UInt32 = 0x184D_2A50

    /// `zstd -dc` outputs nothing for a skippable frame; lf uses them for headers and indexes.
    public static func skippableFrameHeader(variant: UInt32, contentSize: UInt32) -> [UInt8] {
        precondition(variant < 16, "skippable frame variant is 0…15")
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(skippableMagicBase + variant)
        bytes.appendLittleEndian(contentSize)
        return bytes
    }

    /// Compresses `input` into one frame.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 3) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level)
        return try compressor.compress(input)
    }

    public static func compress(_ input: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level) }
    }

    /// Decompresses exactly one frame that must occupy all of `frame` and hold exactly
    /// `expectedSize` bytes (as the frame header declares). Anything else is an error.
    public static func decompressFrame(_ frame: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        let decompressor = try ZstdDecompressor()
        return try decompressor.decompressFrame(frame, expectedSize: expectedSize)
    }

    /// Decompresses every frame in `input` (skippable frames are skipped), refusing to produce more
    /// than `maxSize` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, maxSize: Int) throws -> [UInt8] {
        let decompressor = try ZstdDecompressor()
        return try decompressor.decompress(input, maxSize: maxSize)
    }

    public static func decompress(_ input: [UInt8], maxSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxSize: maxSize) }
    }

    static func check(_ code: Int, _ action: String) throws -> Int {
        if ZSTD_isError(code) != 0 {
            throw LFError("zstd could not \(action): \(String(cString: ZSTD_getErrorName(code)))")
        }
        return code
    }

    /// The version of the linked libzstd ("1.5.4").
    public static var libraryVersion: String { String(cString: ZSTD_versionString()) }
}

/// A reusable compression context (level and checksum set once). Not thread-safe: one per thread.
public final class ZstdCompressor {
    private let context: OpaquePointer
    public let level: Int32

    public init(level: Int32 = 3) throws {
        guard let context = ZSTD_createCCtx() else { throw LFError("zstd could not allocate a compression context") }
        self.context = context
        self.level = level
        do {
            _ = try Zstd.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set the compression level \(level)")
            _ = try Zstd.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enable frame checksums")
            _ = try Zstd.check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1), "enable content sizes")
        } catch {
            ZSTD_freeCCtx(context)
            throw error
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    /// One frame holding `input`, with its content size and checksum.
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = try output.withUnsafeMutableBytes { out in
            try Zstd.check(ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count), "compress \(input.count) bytes")
        }
        output.removeSubrange(written...)
        return output
    }
}

/// A reusable decompression context. Safe to share between threads (calls are serialised).
public final class ZstdDecompressor: @unchecked Sendable {
    private let context: OpaquePointer
    private let lock = NSLock()

    public init() throws {
        guard let context = ZSTD_createDCtx() else { throw LFError("zstd could not allocate a decompression context") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses one frame that must span all of `frame` and declare exactly `expectedSize`
    /// bytes of content.
    public func decompressFrame(_ frame: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        guard frame.count >= 4, let base = frame.baseAddress else {
            throw LFError("not a zstd frame: only \(frame.count) bytes")
        }
        let magic = UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))
        guard magic == Zstd.frameMagic else {
            throw LFError("not a zstd frame: magic 0x\(String(magic, radix: 16)) instead of 0xfd2fb528")
        }
        let declared = ZSTD_getFrameContentSize(base, frame.count)
        if declared == UInt64.max - 1 { throw LFError("corrupt zstd frame header") }
        if declared == UInt64.max { throw LFError("the zstd frame does not declare its content size") }
        guard declared == UInt64(expectedSize) else {
            throw LFError("the zstd frame holds \(declared) bytes, expected \(expectedSize)")
        }
        let frameSize = ZSTD_findFrameCompressedSize(base, frame.count)
        if ZSTD_isError(frameSize) != 0 {
            throw LFError("corrupt or truncated zstd frame: \(String(cString: ZSTD_getErrorName(frameSize)))")
        }
        guard frameSize == frame.count else {
            throw LFError("the zstd frame is \(frameSize) bytes but its slot is \(frame.count) bytes")
        }
        var output = [UInt8](repeating: 0, count: expectedSize)
        let produced = try output.withUnsafeMutableBytes { out -> Int in
            try lock.withLock {
                try Zstd.check(ZSTD_decompressDCtx(context, out.baseAddress, out.count, base, frame.count), "decompress a frame (corrupt data?)")
            }
        }
        guard produced == expectedSize else {
            throw LFError("the zstd frame decompressed to \(produced) bytes, expected \(expectedSize)")
        }
        return output
    }

    /// Decompresses all frames in `input`, producing at most `maxSize` bytes.
    public func decompress(_ input: UnsafeRawBufferPointer, maxSize: Int) throws -> [UInt8] {
        guard let base = input.baseAddress, input.count > 0 else { return [] }
        var result: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let remaining = input.count - offset
            guard remaining >= 8 else { throw LFError("truncated zstd data at byte \(offset)") }
            let magic = UInt32(littleEndian: (base + offset).loadUnaligned(as: UInt32.self))
            if magic & 0xFFFF_FFF0 == Zstd.skippableMagicBase {
                let size = Int(UInt32(littleEndian: (base + offset + 4).loadUnaligned(as: UInt32.self)))
                guard size <= remaining - 8 else { throw LFError("truncated skippable frame at byte \(offset)") }
                offset += 8 + size
                continue
            }
            let frameSize = ZSTD_findFrameCompressedSize(base + offset, remaining)
            if ZSTD_isError(frameSize) != 0 {
                throw LFError("corrupt or truncated zstd frame at byte \(offset): \(String(cString: ZSTD_getErrorName(frameSize)))")
            }
            let declared = ZSTD_getFrameContentSize(base + offset, frameSize)
            if declared == UInt64.max - 1 { throw LFError("corrupt zstd frame header at byte \(offset)") }
            // An unknown size is bounded by what is left of the allowance.
            let room = maxSize - result.count
            let capacity = declared == UInt64.max ? room : Int(clamping: declared)
            guard capacity <= room else {
                throw LFError("zstd data at byte \(offset) would decompress to more than \(maxSize) bytes")
            }
            let start = result.count
            result.append(contentsOf: repeatElement(0, count: capacity))
            let produced = try result.withUnsafeMutableBytes { out -> Int in
                try lock.withLock {
                    try Zstd.check(ZSTD_decompressDCtx(context, out.baseAddress! + start, capacity, base + offset, frameSize),
                                   "decompress the frame at byte \(offset)")
                }
            }
            result.removeSubrange((start + produced)...)
            offset += frameSize
        }
        return result
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt64) {
        appendLittleEndian(UInt32(truncatingIfNeeded: value))
        appendLittleEndian(UInt32(truncatingIfNeeded: value >> 32))
    }

    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }
}
