import Foundation
import Shared
import Testing
import TestSupport

/// The GGUF files llama.cpp wrote for the tiny models and adapters (fixtures/gguf/models): each opens,
/// matches its `.types.json`, carries the expected metadata and dequantises.
@Suite struct ModelFixtureTests {
    struct Expected {
        var fileType: Int?
        var tensors: [(name: String, type: String, ne: [Int])]
    }

    static func expected(for relative: String) throws -> Expected {
        let path = GGUFFixtures.modelsDirectory + "/" + relative.replacingOccurrences(of: ".gguf", with: ".types.json")
        let root = try #require(try JSONSerialization.jsonObject(with: readBytes(path)) as? [String: Any])
        let tensors = try #require(root["tensors"] as? [[String: Any]])
        return Expected(
            fileType: root["general.file_type"] as? Int,
            tensors: try tensors.map { t in
                (try #require(t["name"] as? String), try #require(t["type"] as? String), try #require(t["ne"] as? [Int]))
            })
    }

    /// `bytes` of each output in manifest.json, keyed by file name.
    static let manifestSizes: [String: Int] = {
        let path = GGUFFixtures.modelsDirectory + "/manifest.json"
        guard let data = try? readBytes(path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let models = root["models"] as? [String: Any] else { return [:] }
        var sizes: [String: Int] = [:]
        for case let model as [String: Any] in models.values {
            for case let (name, output as [String: Any]) in (model["outputs"] as? [String: Any]) ?? [:] {
                sizes[name] = output["bytes"] as? Int
            }
        }
        return sizes
    }()

    static func open(_ relative: String) throws -> GGUFFile {
        try GGUFFile(path: GGUFFixtures.modelsDirectory + "/" + relative)
    }

    @Test func allTwentySixFilesAreFound() {
        #expect(GGUFFixtures.modelFiles.count == 26, "\(GGUFFixtures.modelFiles)")
        #expect(Self.manifestSizes.count == 26)
    }

    @Test(arguments: GGUFFixtures.modelFiles)
    func opensAndMatchesTypesJSON(_ relative: String) throws {
        let file = try Self.open(relative)
        let expected = try Self.expected(for: relative)
        let name = URL(fileURLWithPath: relative).lastPathComponent
        #expect(file.fileSize == Self.manifestSizes[name])
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.dataOffset % 32 == 0 && file.dataOffset >= file.headerByteCount && file.dataOffset - file.headerByteCount < 32)
        #expect(file.tensors.map(\.name) == expected.tensors.map(\.name))
        #expect(file.tensors.map(\.type.name) == expected.tensors.map(\.type))
        #expect(file.tensors.map(\.dimensions) == expected.tensors.map(\.ne))
        #expect(file.int("general.file_type") == expected.fileType)
        if expected.fileType != nil {
            #expect(file["general.file_type"]?.type == .uint32)
        }
        // Canonical layout: each tensor starts where the previous one's padded data ends.
        var next = 0
        for t in file.tensors {
            #expect(t.offset == next, "\(t.name)")
            next += GGUFWriter.padded(t.byteCount, to: 32)
        }
        #expect(file.dataOffset + next == file.fileSize)
        #expect(file.layoutProblem == nil)
        #expect(file.int("general.quantization_version") == 2)
        #expect(file.string("general.architecture") == "llama")
    }

    @Test(arguments: GGUFFixtures.modelFiles.filter { !$0.contains("adapter") })
    func modelMetadata(_ relative: String) throws {
        let file = try Self.open(relative)
        let vocab = relative.hasPrefix("tiny-chat/") ? 512 : 256
        #expect(file.string("general.type") == "model")
        #expect(file.string("tokenizer.ggml.model") == "gpt2")
        #expect(file.string("tokenizer.ggml.pre") == "smollm")
        #expect(file.int("llama.vocab_size") == vocab)
        #expect(try file.requireStrings("tokenizer.ggml.tokens").count == vocab)
        #expect(file["tokenizer.ggml.token_type"]?.arrayElementType == .int32)
        #expect(try file.requireInts("tokenizer.ggml.token_type").count == vocab)
        #expect(try file.requireStrings("tokenizer.ggml.tokens").prefix(3) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(try file.requireStrings("tokenizer.ggml.merges").count == (vocab == 512 ? 253 : 65))
        #expect(file.int("tokenizer.ggml.bos_token_id") == 1)
        #expect(file.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(file.bool("tokenizer.ggml.add_bos_token") == false)
        let template = try file.requireString("tokenizer.chat_template")
        #expect(template.contains("<|im_start|>"))
        #expect(file["llama.rope.freq_base"] == .float32(10000))
        #expect(file["llama.attention.layer_norm_rms_epsilon"] == .float32(1e-5))
        #expect(file.double("llama.attention.layer_norm_rms_epsilon") == Double(Float(1e-5)))
        #expect(file.int("llama.embedding_length") == 64)
        #expect(file.int("llama.block_count") == 2)
        #expect(file.int("llama.attention.key_length") == 16)
        #expect(file.tensor(named: "output.weight") == nil)  // tied embeddings
        #expect(file.tensor(named: "token_embd.weight")?.dimensions == [64, vocab])
    }

    @Test(arguments: GGUFFixtures.modelFiles.filter { $0.contains("adapter") })
    func adapterMetadata(_ relative: String) throws {
        let file = try Self.open(relative)
        #expect(file.string("general.type") == "adapter")
        #expect(file.string("adapter.type") == "lora")
        #expect(file["adapter.lora.alpha"] == .float32(8))
        #expect(file.tensors.count == 28)
        for t in file.tensors {
            #expect(t.name.hasSuffix(".lora_a") || t.name.hasSuffix(".lora_b"))
            #expect(t.type == .f32)
            if t.name.hasSuffix(".lora_a") { #expect(t.dimensions[1] == 4, "\(t.name)") } else { #expect(t.dimensions[0] == 4, "\(t.name)") }
        }
    }

    @Test(arguments: GGUFFixtures.modelFiles)
    func everyTensorDequantises(_ relative: String) throws {
        let file = try Self.open(relative)
        for t in file.tensors {
            #expect(t.type.canDequantize)
            let values = try file.floats(t)
            #expect(values.count == t.elementCount)
            #expect(values.allSatisfy { $0.isFinite }, "\(relative) \(t.name)")
            #expect(values.contains { $0 != 0 }, "\(relative) \(t.name) is all zeros")
        }
    }

    /// f16/bf16 files hold the f32 file's values rounded to nearest even (numpy / gguf-py), bit for
    /// bit; tensors kept F32 (norms) are byte-identical.
    @Test(arguments: ["tiny-chat/tiny-chat", "llama/llama"], ["f16", "bf16"])
    func halfFilesAreTheF32FileRounded(_ model: String, _ kind: String) throws {
        let full = try Self.open(model + ".f32.gguf")
        let half = try Self.open(model + ".\(kind).gguf")
        #expect(Set(full.tensors.map(\.name)) == Set(half.tensors.map(\.name)))
        var rounded = 0
        for h in half.tensors {
            let f = try #require(full.tensor(named: h.name))
            #expect(f.type == .f32 && f.dimensions == h.dimensions)
            let reference = try full.floats(f)
            let widened = try half.floats(h)
            switch h.type {
            case .f32:
                #expect(Data(half.data(of: h)) == Data(full.data(of: f)), "\(h.name)")
            case .f16, .bf16:
                rounded += 1
                let raw = half.data(of: h)
                for i in 0 ..< h.elementCount {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    let want = h.type == .f16 ? HalfPrecision.floatToF16(reference[i]) : HalfPrecision.floatToBF16(reference[i])
                    if bits != want {
                        Issue.record("\(h.name)[\(i)]: stored 0x\(String(bits, radix: 16)), f32 \(reference[i]) rounds to 0x\(String(want, radix: 16))")
                        break
                    }
                    let back = h.type == .f16 ? HalfPrecision.f16ToFloat(bits) : HalfPrecision.bf16ToFloat(bits)
                    if widened[i].bitPattern != back.bitPattern {
                        Issue.record("\(h.name)[\(i)]: dequantised \(widened[i]), widening gives \(back)")
                        break
                    }
                }
            default:
                Issue.record("unexpected type \(h.type.name) for \(h.name)")
            }
        }
        #expect(rounded >= 14, "the 2-D weights should be \(kind)")
    }

    /// Quantized files dequantise close to the f32 weights they were made from (a sanity check on
    /// real data of the layouts that the quant fixtures check bit for bit).
    @Test(arguments: ["tiny-chat/tiny-chat", "llama/llama"], ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k_m", "q5_k_m", "q6_k"])
    func quantizedFilesApproximateF32(_ model: String, _ kind: String) throws {
        let full = try Self.open(model + ".f32.gguf")
        let quant = try Self.open(model + ".\(kind).gguf")
        for q in quant.tensors {
            let f = try #require(full.tensor(named: q.name))
            let reference = try full.floats(f)
            let values = try quant.floats(q)
            var err = 0.0, norm = 0.0
            for i in 0 ..< values.count {
                let d = Double(values[i]) - Double(reference[i])
                err += d * d
                norm += Double(reference[i]) * Double(reference[i])
            }
            let relative = (err / max(norm, 1e-30)).squareRoot()
            let bound: Double = switch q.type {
            case .f32: 0
            case .q8_0: 0.01
            case .q5_0, .q5_1: 0.06
            default: 0.15
            }
            #expect(relative <= bound, "\(kind) \(q.name) \(q.type.name): relative RMS error \(relative)")
        }
    }

    /// llama-quantize's Q6_K preset falls back to Q8_0 for every tensor here, so its data equals the
    /// q8_0 file's (README): a check that tensor offsets are read right in two independently laid-out files.
    @Test(arguments: ["tiny-chat/tiny-chat", "llama/llama"])
    func q6KPresetDataEqualsQ8_0(_ model: String) throws {
        let a = try Self.open(model + ".q6_k.gguf")
        let b = try Self.open(model + ".q8_0.gguf")
        for t in a.tensors {
            let u = try #require(b.tensor(named: t.name))
            #expect(t.type == u.type)
            #expect(Data(a.data(of: t)) == Data(b.data(of: u)), "\(t.name)")
        }
    }

    @Test(arguments: ["tiny-chat-adapter/tiny-chat-adapter", "llama/llama-adapter"])
    func adapterF16EqualsF32(_ stem: String) throws {
        let a = try Self.open(stem + ".f16.gguf")
        let b = try Self.open(stem + ".f32.gguf")
        #expect(a.tensors == b.tensors)
        for t in a.tensors { #expect(Data(a.data(of: t)) == Data(b.data(of: t))) }
    }

    @Test func requireErrorsNameKeyAndFile() throws {
        let file = try Self.open("tiny-chat/tiny-chat.q4_0.gguf")
        let missing = expectLFError { _ = try file.requireString("no.such.key") }
        #expect(missing?.message.contains("'no.such.key'") == true)
        #expect(missing?.location?.file.hasSuffix("tiny-chat.q4_0.gguf") == true)
        let wrong = expectLFError { _ = try file.requireString("llama.block_count") }
        #expect(wrong?.message == "metadata key 'llama.block_count' should be a string but is uint32")
        #expect(wrong?.location?.byteOffset == file.byteOffset(ofKey: "llama.block_count"))
        #expect(wrong?.location?.field == "llama.block_count")
        #expect(try file.requireInt("llama.block_count") == 2)
        #expect(try file.requireDouble("llama.rope.freq_base") == 10000)
        #expect(try file.requireBool("tokenizer.ggml.add_bos_token") == false)
        #expect(expectLFError { _ = try file.requireInts("tokenizer.ggml.tokens") } != nil)
        #expect(expectLFError { _ = try file.requireTensor(named: "output.weight") }?.location?.field == "output.weight")
    }
}
