import Foundation
import Shared
import Testing

/// The zstd wrapper: round trips, bounded output, and a clear error for every kind of bad frame.
@Suite struct ZstdTests {
    static let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 200).utf8)

    @Test func roundTripOneFrame() throws {
        let frame = try Zstd.compress(Self.text)
        #expect(frame.count < Self.text.count / 10)
        // The frame starts with zstd's magic and declares its size; decompression gives the input back.
        #expect(Array(frame.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        let back = try frame.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: Self.text.count) }
        #expect(back == Self.text)
        #expect(try Zstd.decompress(frame, maxSize: Self.text.count) == Self.text)
    }

    @Test func emptyInput() throws {
        let frame = try Zstd.compress([UInt8]())
        let back = try frame.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: 0) }
        #expect(back.isEmpty)
        #expect(try Zstd.decompress([UInt8](), maxSize: 0).isEmpty)
    }

    @Test func skippableFramesAreSkipped() throws {
        var stream = Zstd.skippableFrameHeader(variant: 3, contentSize: 5) + [1, 2, 3, 4, 5]
        stream += try Zstd.compress(Array("abc".utf8))
        stream += try Zstd.compress(Array("def".utf8))
        #expect(try Zstd.decompress(stream, maxSize: 100) == Array("abcdef".utf8))
    }

    @Test func outputIsBounded() throws {
        let frame = try Zstd.compress(Self.text)
        let error = ShardFixture.error { _ = try Zstd.decompress(frame, maxSize: 100) }
        #expect(error?.message.contains("more than 100 bytes") == true)
        let wrongSize = ShardFixture.error { _ = try frame.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: 100) } }
        #expect(wrongSize?.message.contains("holds \(Self.text.count) bytes, expected 100") == true)
    }

    @Test func corruptFramesAreRefused() throws {
        let frame = try Zstd.compress(Self.text)
        // A flipped bit in the compressed data: zstd's checksum (or its decoder) catches it.
        for position in [frame.count / 2, frame.count - 2] {
            var bad = frame
            bad[position] ^= 0x10
            let error = ShardFixture.error { _ = try bad.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: Self.text.count) } }
            #expect(error?.message.contains("zstd") == true, "\(String(describing: error))")
        }
        // Truncated.
        let cut = Array(frame.dropLast(5))
        let truncated = ShardFixture.error { _ = try cut.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: Self.text.count) } }
        #expect(truncated?.message.contains("truncated") == true, "\(String(describing: truncated))")
        #expect(ShardFixture.error { _ = try Zstd.decompress(cut, maxSize: 1 << 20) }?.message.contains("truncated") == true)
        // Extra bytes after the frame in its slot.
        let long = frame + [0]
        let extra = ShardFixture.error { _ = try long.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: Self.text.count) } }
        #expect(extra?.message.contains("its slot is") == true)
        // Not zstd at all.
        let junk = Array("hello, world".utf8)
        let notZstd = ShardFixture.error { _ = try junk.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: 5) } }
        #expect(notZstd?.message.contains("not a zstd frame") == true)
        #expect(ShardFixture.error { _ = try Zstd.decompress(junk, maxSize: 100) } != nil)
        // A skippable frame that claims more bytes than there are.
        let lying = Zstd.skippableFrameHeader(variant: 0, contentSize: 1000) + [1, 2, 3]
        #expect(ShardFixture.error { _ = try Zstd.decompress(lying, maxSize: 100) }?.message.contains("truncated skippable") == true)
    }
}
