import Shared

/// The stand-in tokenizer for template and packing tests: each UTF-8 byte is one token (id =
/// specials.count + byte), and the given special tokens are ids 0 ..< specials.count, recognised in
/// text (longest first) only with `parseSpecial`. No merges, so the ids of a text are its bytes and
/// every mask and span can be checked exactly; and encoding segments separately always equals
/// encoding their concatenation.
struct ByteTokenizer: TextTokenizer {
    let specials: [String]
    let fingerprint: String

    static let common = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|end_of_text|>",
                         "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<s>", "</s>", "<|system|>", "<|user|>",
                         "<|assistant|>", "<|end|>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
                         "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"]

    init(specials: [String] = ByteTokenizer.common, fingerprint: String = String(repeating: "5a", count: 32)) {
        self.specials = specials
        self.fingerprint = fingerprint
    }

    var vocabularySize: Int { specials.count + 256 }

    func tokenID(_ token: String) -> Int32? {
        if let i = specials.firstIndex(of: token) { return Int32(i) }
        let bytes = Array(token.utf8)
        return bytes.count == 1 ? Int32(specials.count + Int(bytes[0])) : nil
    }

    func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        let sorted = specials.enumerated().map { ($0.offset, Array($0.element.utf8)) }.sorted { $0.1.count > $1.1.count }
        var ids: [Int32] = []
        var i = 0
        outer: while i < bytes.count {
            if parseSpecial {
                for (id, s) in sorted where i + s.count <= bytes.count && Array(bytes[i ..< i + s.count]) == s {
                    ids.append(Int32(id))
                    i += s.count
                    continue outer
                }
            }
            ids.append(Int32(specials.count + Int(bytes[i])))
            i += 1
        }
        return ids
    }

    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if Int(id) < specials.count {
                if !skipSpecial { bytes += Array(specials[Int(id)].utf8) }
            } else {
                bytes.append(UInt8(Int(id) - specials.count))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

func conversation(_ pairs: (ChatMessage.Role, String)...) -> [ChatMessage] {
    pairs.map { ChatMessage(role: $0.0, content: $0.1) }
}
