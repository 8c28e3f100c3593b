import Foundation

/// Reads the pieces of a sentencepiece `tokenizer.model` (a protobuf ModelProto) for tests: piece
/// text, score and type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte — the
/// same numbering llama.cpp stores in `tokenizer.ggml.token_type`).
public struct SentencePieceModel {
    public struct Piece { public var text: String; public var score: Float; public var type: Int }
    public var pieces: [Piece] = []

    public init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var reader = ProtobufReader(bytes: [UInt8](data))
        while let (field, wire) = try reader.nextKey() {
            if field == 1 && wire == 2 {
                var sub = ProtobufReader(bytes: try reader.lengthDelimited())
                var piece = Piece(text: "", score: 0, type: 1)
                while let (f, w) = try sub.nextKey() {
                    switch (f, w) {
                    case (1, 2): piece.text = String(decoding: try sub.lengthDelimited(), as: UTF8.self)
                    case (2, 5): piece.score = Float(bitPattern: try sub.fixed32())
                    case (3, 0): piece.type = Int(try sub.varint())
                    default: try sub.skip(wire: w)
                    }
                }
                pieces.append(piece)
            } else {
                try reader.skip(wire: wire)
            }
        }
    }
}

struct ProtobufReader {
    var bytes: [UInt8]
    var i = 0
    struct Malformed: Error {}

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < bytes.count, shift < 64 else { throw Malformed() }
            let b = bytes[i]; i += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func nextKey() throws -> (Int, Int)? {
        guard i < bytes.count else { return nil }
        let key = try varint()
        return (Int(key >> 3), Int(key & 7))
    }

    mutating func lengthDelimited() throws -> [UInt8] {
        let n = Int(try varint())
        guard n >= 0, i + n <= bytes.count else { throw Malformed() }
        defer { i += n }
        return Array(bytes[i..<(i + n)])
    }

    mutating func fixed32() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Malformed() }
        defer { i += 4 }
        return UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }

    mutating func skip(wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: guard i + 8 <= bytes.count else { throw Malformed() }; i += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw Malformed()
        }
    }
}
