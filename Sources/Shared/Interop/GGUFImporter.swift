import Foundation

/// `lf-gguf import`: a llama-architecture GGUF file → a Hugging Face model directory
/// (config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
/// special_tokens_map.json).
///
/// Every tensor is dequantised to float32 exactly as ggml does it, q/k rows are put back in HF's
/// rotary layout, and the weights are written as float32 (lossless) or rounded to bfloat16.
public enum GGUFImporter {
    /// The files an import writes; an existing output directory may hold only these.
    public static let outputFiles: Set<String> = [
        "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json",
    ]

    public struct Summary: Sendable {
        public var source: String
        public var output: String
        public var architecture: String
        public var tensors: Int
        public var parameters: Int
        public var dtype: DType
        public var tokenizer: String
        public var preTokenizer: String?
        public var vocabularySize: Int
        public var tensorTypes: [String: Int]
        public var seconds: Double
    }

    public static func run(gguf path: String, output: String, dtype: DType, progress: ProgressReporter? = nil) throws -> Summary {
        guard dtype == .f32 || dtype == .bf16 || dtype == .f16 else {
            throw LFError.usage("--dtype must be f32, bf16 or f16 (got \(dtype.rawValue.lowercased()))")
        }
        let start = Date()
        try AtomicDirectory.checkReplaceable(output, expected: outputFiles)
        let file = try GGUFFile(path: path)
        let architecture = file.string("general.architecture") ?? ""
        guard architecture == "llama" else {
            throw LFError.input("lf-gguf import reads llama-architecture GGUF files; this one is \"\(architecture)\"",
                                file: path, field: "general.architecture",
                                hint: "llama covers SmolLM, Llama 2/3, TinyLlama, Mistral-7B-v0.1 and their fine-tunes")
        }
        let vocabulary = try readVocabulary(file)
        var hyper = try readHyperparameters(file, vocabulary: vocabulary)
        let plan = try planTensors(file, hyper: &hyper)

        let directory = try AtomicDirectory(path: output)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        var parameters = 0
        var types: [String: Int] = [:]
        for item in plan {
            parameters += item.info.elementCount
            types[item.info.type.name, default: 0] += 1
            try writer.add(item.hfName, dtype: dtype, shape: item.hfShape) { buffer in
                try convert(item, from: file, into: buffer, dtype: dtype)
                progress?.advance()
            }
        }
        try writer.write(to: directory.file("model.safetensors"))
        let tokenizer = try HFTokenizerFiles(vocabulary: vocabulary, modelMaxLength: hyper.contextLength, source: path)
        let precision = LlamaGGUFHyperparameters.sourcePrecision(fileType: try fileType(file))
        try write(hyper.configJSON(vocabulary: vocabulary, precision: precision), to: directory.file("config.json"))
        try write(hyper.generationConfigJSON(vocabulary: vocabulary), to: directory.file("generation_config.json"))
        try write(tokenizer.tokenizerJSON, to: directory.file("tokenizer.json"))
        try write(tokenizer.tokenizerConfig, to: directory.file("tokenizer_config.json"))
        try write(tokenizer.specialTokensMap, to: directory.file("special_tokens_map.json"))
        try directory.commit()
        progress?.finish()
        return Summary(source: path, output: output, architecture: architecture, tensors: plan.count, parameters: parameters,
                       dtype: dtype, tokenizer: vocabulary.model.rawValue, preTokenizer: vocabulary.pre,
                       vocabularySize: vocabulary.tokens.count, tensorTypes: types, seconds: Date().timeIntervalSince(start))
    }

    static func write(_ json: JSONValue, to path: String) throws {
        try AtomicFile.write(Data(json.serialized().utf8), to: path)
    }

    // MARK: - Metadata

    static func readVocabulary(_ file: GGUFFile) throws -> GGUFVocabulary {
        let path = file.path
        guard let modelName = file.string("tokenizer.ggml.model") else {
            throw LFError.input("the file has no tokenizer (tokenizer.ggml.model is missing)", file: path,
                                field: "tokenizer.ggml.model", hint: "lf needs the vocabulary to write tokenizer.json")
        }
        guard let model = GGUFVocabulary.Model(rawValue: modelName) else {
            throw LFError.input("tokenizer model \"\(modelName)\" is not supported (lf reads \"gpt2\" byte-level BPE and \"llama\" SentencePiece)",
                                file: path, field: "tokenizer.ggml.model")
        }
        guard let tokens = file.strings("tokenizer.ggml.tokens") else {
            throw LFError.input("tokenizer.ggml.tokens is missing or not an array of strings", file: path, field: "tokenizer.ggml.tokens")
        }
        var types: [GGUFVocabulary.TokenType]?
        if let raw = file.ints("tokenizer.ggml.token_type") {
            types = try raw.enumerated().map { id, value in
                guard let type = GGUFVocabulary.TokenType(rawValue: value) else {
                    throw LFError.input("token \(id) has unknown token type \(value)", file: path, field: "tokenizer.ggml.token_type")
                }
                return type
            }
        }
        return GGUFVocabulary(
            model: model,
            pre: file.string("tokenizer.ggml.pre"),
            tokens: tokens,
            tokenTypes: types,
            merges: file.strings("tokenizer.ggml.merges") ?? [],
            scores: file.doubles("tokenizer.ggml.scores")?.map { Float($0) },
            bosID: file.int("tokenizer.ggml.bos_token_id"),
            eosID: file.int("tokenizer.ggml.eos_token_id"),
            unknownID: file.int("tokenizer.ggml.unknown_token_id"),
            paddingID: file.int("tokenizer.ggml.padding_token_id"),
            endOfTurnID: file.int("tokenizer.ggml.eot_token_id"),
            addBOS: file.bool("tokenizer.ggml.add_bos_token"),
            addEOS: file.bool("tokenizer.ggml.add_eos_token"),
            addSpacePrefix: file.bool("tokenizer.ggml.add_space_prefix"),
            chatTemplate: file.string("tokenizer.chat_template"))
    }

    static func readHyperparameters(_ file: GGUFFile, vocabulary: GGUFVocabulary) throws -> LlamaGGUFHyperparameters {
        let path = file.path
        func required(_ key: String) throws -> Int {
            guard let value = file.int("llama." + key) else {
                throw LFError.input("llama.\(key) is missing or not an integer", file: path, field: "llama." + key)
            }
            guard value > 0 else {
                throw LFError.input("llama.\(key) is \(value); it must be positive", file: path, field: "llama." + key)
            }
            return value
        }
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        if file["llama.attention.head_count_kv"]?.arrayValues != nil {
            throw LFError.input("a per-layer llama.attention.head_count_kv is not supported", file: path, field: "llama.attention.head_count_kv")
        }
        let kvHeads = file.int("llama.attention.head_count_kv") ?? heads
        let headDim = file.int("llama.attention.key_length") ?? hidden / heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw LFError.input("\(heads) attention heads cannot be shared by \(kvHeads) key/value heads", file: path,
                                field: "llama.attention.head_count_kv")
        }
        guard headDim > 0, headDim % 2 == 0, file.int("llama.attention.value_length").map({ $0 == headDim }) ?? true else {
            throw LFError.input("head size \(headDim) is not supported (it must be even, and keys and values must have the same size)",
                                file: path, field: "llama.attention.key_length")
        }
        if let rotary = file.int("llama.rope.dimension_count"), rotary != headDim {
            throw LFError.input("partial rotary embeddings (\(rotary) of \(headDim) dimensions) are not supported for llama",
                                file: path, field: "llama.rope.dimension_count")
        }
        guard let eps = file.double("llama.attention.layer_norm_rms_epsilon") else {
            throw LFError.input("llama.attention.layer_norm_rms_epsilon is missing", file: path,
                                field: "llama.attention.layer_norm_rms_epsilon")
        }
        var scaling: LlamaGGUFHyperparameters.RopeScaling?
        switch file.string("llama.rope.scaling.type") {
        case nil, "none": scaling = nil
        case "linear":
            scaling = .linear(factor: file.double("llama.rope.scaling.factor") ?? 1)
        case "yarn":
            scaling = .yarn(factor: file.double("llama.rope.scaling.factor") ?? 1,
                            originalMaxPositions: file.int("llama.rope.scaling.original_context_length") ?? 0)
        case let other?:
            throw LFError.input("rope scaling \"\(other)\" is not supported", file: path, field: "llama.rope.scaling.type")
        }
        return LlamaGGUFHyperparameters(
            layers: try required("block_count"),
            contextLength: try required("context_length"),
            hiddenSize: hidden,
            intermediateSize: try required("feed_forward_length"),
            heads: heads,
            kvHeads: kvHeads,
            headDim: headDim,
            ropeTheta: Float(file.double("llama.rope.freq_base") ?? 10000),
            rmsNormEps: Float(eps),
            vocabSize: file.int("llama.vocab_size") ?? vocabulary.tokens.count,
            tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            ropeScaling: scaling)
    }

    /// `general.file_type`, or, in files that lack it, the llama_ftype of the type most 2-D weights have.
    static func fileType(_ file: GGUFFile) throws -> Int {
        if let type = file.int("general.file_type") { return type }
        var counts: [GGMLType: Int] = [:]
        for t in file.tensors where t.dimensions.count >= 2 { counts[t.type, default: 0] += 1 }
        switch counts.max(by: { $0.value < $1.value })?.key {
        case .f32?, nil: return 0
        case .f16?: return 1
        case .bf16?: return 32
        default: return 2  // some quantised type
        }
    }

    // MARK: - Tensors

    struct PlannedTensor {
        var info: GGUFTensorInfo
        var hfName: String
        var hfShape: [Int]
        var unpermuteHeads: Int?
    }

    /// Maps every tensor to its HF name and checks names and shapes against the hyperparameters, so
    /// that a file that disagrees with itself fails before anything is written.
    static func planTensors(_ file: GGUFFile, hyper: inout LlamaGGUFHyperparameters) throws -> [PlannedTensor] {
        let path = file.path
        var plan: [PlannedTensor] = []
        var seen = Set<String>()
        for info in file.tensors {
            if LlamaGGUFNames.derived.contains(info.name) {
                try applyRopeFrequencies(info, file: file, hyper: &hyper)
                continue
            }
            guard let mapping = LlamaGGUFNames.mapping(for: info.name, heads: hyper.heads, kvHeads: hyper.kvHeads, layers: hyper.layers) else {
                throw LFError.input("tensor \(info.name) has no Hugging Face llama counterpart", file: path, field: info.name,
                                    hint: "lf-gguf import converts plain llama models; adapters, vision towers and MoE experts are not supported")
            }
            guard info.type.canDequantize else {
                throw LFError.input("tensor \(info.name) is stored as \(info.type.name), which lf cannot dequantise yet", file: path,
                                    field: info.name, hint: "lf reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K")
            }
            let expected = expectedShape(mapping.hfName, hyper: hyper)
            let shape = Array(info.dimensions.reversed())
            guard shape == expected else {
                throw LFError.input("tensor \(info.name) has shape \(shape) (HF order), expected \(expected ?? []) from the hyperparameters",
                                    file: path, field: info.name)
            }
            seen.insert(mapping.hfName)
            plan.append(PlannedTensor(info: info, hfName: mapping.hfName, hfShape: shape, unpermuteHeads: mapping.unpermuteHeads))
        }
        if vocabularySize(file) > hyper.vocabSize {
            throw LFError.input("the tokenizer has \(vocabularySize(file)) tokens but the embedding only \(hyper.vocabSize) rows",
                                file: path, field: "token_embd.weight")
        }
        var needed = ["model.embed_tokens.weight", "model.norm.weight"]
        for layer in 0..<hyper.layers {
            needed += LlamaGGUFNames.perLayer.values.map { "model.layers.\(layer).\($0)" }
        }
        if let missing = needed.sorted().first(where: { !seen.contains($0) }) {
            throw LFError.input("the file has no tensor for \(missing)", file: path, field: missing)
        }
        return plan
    }

    static func vocabularySize(_ file: GGUFFile) -> Int {
        file["tokenizer.ggml.tokens"]?.arrayValues?.count ?? 0
    }

    /// HF shapes ([rows, cols]) of llama tensors.
    static func expectedShape(_ hfName: String, hyper h: LlamaGGUFHyperparameters) -> [Int]? {
        let q = h.heads * h.headDim
        let kv = h.kvHeads * h.headDim
        switch hfName.split(separator: ".").suffix(2).joined(separator: ".") {
        case "embed_tokens.weight", "lm_head.weight": return [h.vocabSize, h.hiddenSize]
        case "norm.weight", "input_layernorm.weight", "post_attention_layernorm.weight": return [h.hiddenSize]
        case "q_proj.weight": return [q, h.hiddenSize]
        case "k_proj.weight", "v_proj.weight": return [kv, h.hiddenSize]
        case "o_proj.weight": return [h.hiddenSize, q]
        case "gate_proj.weight", "up_proj.weight": return [h.intermediateSize, h.hiddenSize]
        case "down_proj.weight": return [h.hiddenSize, h.intermediateSize]
        default: return nil
        }
    }

    static func applyRopeFrequencies(_ info: GGUFTensorInfo, file: GGUFFile, hyper: inout LlamaGGUFHyperparameters) throws {
        let freqs = try file.floats(info)
        guard let scaling = LlamaGGUFHyperparameters.llama3Scaling(ropeFreqs: freqs, theta: hyper.ropeTheta, headDim: hyper.headDim) else {
            throw LFError.input("rope_freqs.weight does not match Llama 3.1-style rope scaling with any known parameters",
                                file: file.path, field: info.name, hint: "lf cannot write a rope_scaling for it")
        }
        hyper.ropeScaling = scaling
    }

    /// Dequantises one tensor, un-permutes q/k rows, and stores it as `dtype` into `buffer`.
    static func convert(_ item: PlannedTensor, from file: GGUFFile, into buffer: UnsafeMutableRawBufferPointer, dtype: DType) throws {
        let count = item.info.elementCount
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { floats.deallocate() }
        try file.dequantize(item.info, into: floats)
        var source = UnsafePointer(floats)
        var scratch: UnsafeMutablePointer<Float>?
        defer { scratch?.deallocate() }
        if let heads = item.unpermuteHeads {
            let rows = item.hfShape[0], cols = item.hfShape[1]
            let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
            scratch = out
            LlamaGGUFNames.unpermuteRows(floats, out, rows: rows, cols: cols, heads: heads)
            source = UnsafePointer(out)
        }
        switch dtype {
        case .f32:
            buffer.baseAddress!.copyMemory(from: source, byteCount: count * 4)
        case .bf16:
            HalfPrecision.narrowToBF16(source, buffer.baseAddress!.assumingMemoryBound(to: UInt16.self), count: count)
        case .f16:
            HalfPrecision.narrowToF16(source, buffer.baseAddress!.assumingMemoryBound(to: UInt16.self), count: count)
        default:
            preconditionFailure("dtype checked in run()")
        }
    }
}
