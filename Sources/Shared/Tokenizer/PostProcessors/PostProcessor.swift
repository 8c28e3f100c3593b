/// tokenizer.json `post_processor`: adds special tokens around an encoding when the caller asks
/// for them (`add_special_tokens=True` in HF). Only single sequences are encoded by lf.
protocol PostProcessor: Sendable {
    func process(_ ids: [Int32]) -> [Int32]
}

enum PostProcessorType: String, CaseIterable {
    case templateProcessing = "TemplateProcessing", byteLevel = "ByteLevel", sequence = "Sequence"
    case roberta = "RobertaProcessing", bert = "BertProcessing"
}

enum PostProcessors {
    static func make(_ json: TokenizerJSON) throws -> PostProcessor {
        let name = try json.type()
        guard let type = PostProcessorType(rawValue: name) else {
            throw json.unsupported("post-processor", name, supported: PostProcessorType.allCases.map(\.rawValue))
        }
        switch type {
        case .templateProcessing: return try TemplateProcessing(json)
        case .byteLevel: return Passthrough()  // only trims offsets, which lf does not track
        case .sequence: return PostProcessorSequence(steps: try json.required("processors").array().map(make))
        case .roberta, .bert:
            // {"sep": ["</s>", 2], "cls": ["<s>", 0]}: cls A sep.
            func id(_ key: String) throws -> Int32 {
                let node = try json.required(key)
                let pair = try node.array()
                guard pair.count == 2 else { throw node.error("expected [token, id]") }
                return Int32(try pair[1].int())
            }
            return Surround(prefix: [try id("cls")], suffix: [try id("sep")])
        }
    }
}

struct Passthrough: PostProcessor {
    func process(_ ids: [Int32]) -> [Int32] { ids }
}

struct Surround: PostProcessor {
    let prefix: [Int32]
    let suffix: [Int32]
    func process(_ ids: [Int32]) -> [Int32] { prefix + ids + suffix }
}

/// `TemplateProcessing`: the `single` template, e.g. `[{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]`.
struct TemplateProcessing: PostProcessor {
    enum Item { case special([Int32]), sequence }
    let single: [Item]

    init(_ json: TokenizerJSON) throws {
        var ids: [String: [Int32]] = [:]
        for (name, entry) in try json.required("special_tokens").members() {
            ids[name] = try entry.required("ids").array().map { Int32(try $0.int()) }
        }
        single = try json.required("single").array().map { item in
            if let special = item["SpecialToken"] {
                let name = try special.string("id")
                guard let list = ids[name] else { throw special.error("\(name.debugDescription) is not in special_tokens") }
                return .special(list)
            }
            if item["Sequence"] != nil { return .sequence }
            throw item.error("expected {\"SpecialToken\": …} or {\"Sequence\": …}")
        }
    }

    func process(_ ids: [Int32]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(ids.count + single.count)
        for item in single {
            switch item {
            case .special(let list): out += list
            case .sequence: out += ids
            }
        }
        return out
    }
}

struct PostProcessorSequence: PostProcessor {
    let steps: [PostProcessor]
    func process(_ ids: [Int32]) -> [Int32] { steps.reduce(ids) { $1.process($0) } }
}
