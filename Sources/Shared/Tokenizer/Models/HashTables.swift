/// Open-addressing hash tables for the two lookups on the tokenizer's hot path. Swift's Dictionary
/// hashes with SipHash and, for array keys, allocates per lookup; these hash with a multiply and
/// store keys and values in flat arenas.

/// (left id, right id) packed in a UInt64 → a UInt64 payload (rank << 32 | merged id).
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private static let empty = UInt64.max

    init(_ entries: [UInt64: UInt64]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for (k, v) in entries {
            var i = Self.slot(k, mask)
            while keys[i] != Self.empty { i = (i + 1) & mask }
            keys[i] = k
            values[i] = v
        }
    }

    @inline(__always)
    static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    @inline(__always)
    func get(_ key: UInt64) -> UInt64? {
        keys.withUnsafeBufferPointer { k in
            var i = Self.slot(key, mask)
            while true {
                let found = k[i]
                if found == key { return values.withUnsafeBufferPointer { $0[i] } }
                if found == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}

/// A cache from a word's bytes to its token ids, for one thread. When it fills up it starts over
/// (words repeat in natural text, so the common ones come straight back).
final class WordCache {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var valueStart: Int32
        var valueLength: Int32
    }
    private var slots: [Int32]  // index into entries, -1 empty
    private var entries: [Entry] = []
    private var keyBytes: [UInt8] = []
    private var valueIDs: [Int32] = []
    private let mask: Int
    private let maxEntries: Int

    init(capacity: Int = 1 << 17) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        maxEntries = capacity
        entries.reserveCapacity(capacity)
    }

    /// FNV-1a over the bytes, finished with a multiply so that the low bits mix.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h &* 0x9E37_79B9_7F4A_7C15
    }

    /// Appends the cached ids of `key` to `out` and returns true, or returns false.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hash h: UInt64, into out: inout [Int32]) -> Bool {
        var i = Int(truncatingIfNeeded: h >> 20) & mask
        while true {
            let e = slots[i]
            if e < 0 { return false }
            let entry = entries[Int(e)]
            if entry.hash == h, Int(entry.keyLength) == key.count,
               keyBytes.withUnsafeBytes({ memcmp($0.baseAddress! + Int(entry.keyStart), key.baseAddress!, key.count) == 0 }) {
                let lo = Int(entry.valueStart)
                out.append(contentsOf: valueIDs[lo..<(lo + Int(entry.valueLength))])
                return true
            }
            i = (i + 1) & mask
        }
    }

    func insert(_ key: UnsafeRawBufferPointer, hash h: UInt64, ids: ArraySlice<Int32>) {
        if entries.count >= maxEntries {
            entries.removeAll(keepingCapacity: true)
            keyBytes.removeAll(keepingCapacity: true)
            valueIDs.removeAll(keepingCapacity: true)
            for i in slots.indices { slots[i] = -1 }
        }
        var i = Int(truncatingIfNeeded: h >> 20) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(entries.count)
        entries.append(Entry(hash: h, keyStart: Int32(keyBytes.count), keyLength: Int32(key.count),
                             valueStart: Int32(valueIDs.count), valueLength: Int32(ids.count)))
        keyBytes.append(contentsOf: key)
        valueIDs.append(contentsOf: ids)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Token bytes → id, built once when the vocabulary is read. Keys are compared as bytes, never as
/// Strings (Swift's String equality is canonical equivalence: "K" would find the Kelvin sign).
struct TokenTable: @unchecked Sendable {
    private var slots: [Int32]  // index into ids/keyStart, -1 empty
    private var hashes: [UInt64] = []
    private var keyStart: [Int32] = []
    private var keyLength: [Int32] = []
    private var ids: [Int32] = []
    private var keyBytes: [UInt8] = []
    private var mask: Int

    init(expectedCount: Int) {
        var size = 16
        while size < expectedCount * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { ids.count }

    /// Adds or replaces the id of `key`.
    mutating func set(_ key: UnsafeRawBufferPointer, _ id: Int32) {
        if ids.count * 2 >= slots.count { grow() }
        let h = WordCache.hash(key)
        var i = Int(truncatingIfNeeded: h >> 20) & mask
        while slots[i] >= 0 {
            let e = Int(slots[i])
            if hashes[e] == h, matches(e, key) { ids[e] = id; return }
            i = (i + 1) & mask
        }
        slots[i] = Int32(ids.count)
        hashes.append(h)
        keyStart.append(Int32(keyBytes.count))
        keyLength.append(Int32(key.count))
        keyBytes.append(contentsOf: key)
        ids.append(id)
    }

    mutating func set(_ key: String, _ id: Int32) {
        var key = key
        key.withUTF8 { set(UnsafeRawBufferPointer($0), id) }
    }

    @inline(__always)
    private func matches(_ e: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        guard Int(keyLength[e]) == key.count else { return false }
        if key.isEmpty { return true }
        return keyBytes.withUnsafeBytes { memcmp($0.baseAddress! + Int(keyStart[e]), key.baseAddress!, key.count) == 0 }
    }

    func get(_ key: UnsafeRawBufferPointer) -> Int32? {
        let h = WordCache.hash(key)
        var i = Int(truncatingIfNeeded: h >> 20) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return nil }
            if hashes[e] == h, matches(e, key) { return ids[e] }
            i = (i + 1) & mask
        }
    }

    func get(_ key: String) -> Int32? {
        var key = key
        return key.withUTF8 { get(UnsafeRawBufferPointer($0)) }
    }

    func get(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { get($0) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for e in ids.indices {
            var i = Int(truncatingIfNeeded: hashes[e] >> 20) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(e)
        }
    }
}
