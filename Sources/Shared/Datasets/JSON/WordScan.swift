/// Eight-bytes-at-a-time tests for the byte scanners (cleaning, escaping, counting), from Sean
/// Anderson's "Bit Twiddling Hacks" (`haszero`, `hasless`): each tells exactly whether *any* byte
/// of the word matches, so a scanner skips a word only when none does.
enum WordScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Some byte of `w` is zero.
    @inline(__always) static func hasZero(_ w: UInt64) -> Bool { ((w &- ones) & ~w & highs) != 0 }

    /// Some byte of `w` equals `b`.
    @inline(__always) static func hasByte(_ w: UInt64, _ b: UInt8) -> Bool { hasZero(w ^ (ones &* UInt64(b))) }

    /// Some byte of `w` is below `n` (n ≤ 128).
    @inline(__always) static func hasByteBelow(_ w: UInt64, _ n: UInt8) -> Bool { ((w &- ones &* UInt64(n)) & ~w & highs) != 0 }

    /// Some byte of `w` has its high bit set (non-ASCII).
    @inline(__always) static func hasHighBit(_ w: UInt64) -> Bool { (w & highs) != 0 }

    /// The number of UTF-8 continuation bytes (10xxxxxx) in `w`.
    @inline(__always) static func continuationBytes(_ w: UInt64) -> Int { (w & ~(w << 1) & highs).nonzeroBitCount }

    @inline(__always) static func load(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
    }
}
