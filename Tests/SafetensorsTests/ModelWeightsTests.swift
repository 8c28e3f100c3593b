import Foundation
import Shared
import Testing
import TestSupport

/// Model directories: one model.safetensors, or an index and its shards.
@Suite struct ModelWeightsTests {
    let dir: URL
    let llama: SafetensorsFile

    init() throws {
        dir = try Fixtures.temporaryDirectory("lf-st-shards")
        llama = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
    }

    /// Splits llama's tensors round-robin over `shardCount` shards written with SafetensorsWriter, and
    /// writes an index (`weightMap` overrides entries). Returns the directory.
    @discardableResult
    private func makeSharded(_ name: String, shardCount: Int = 3, weightMap overrides: [String: String?] = [:],
                             extraInShard: [Int: [String]] = [:], skipShards: Set<Int> = [],
                             indexJSON: String? = nil) throws -> String {
        let model = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        var writers = (0..<shardCount).map { _ in SafetensorsWriter(metadata: ["format": "pt"]) }
        var map: [String: String] = [:]
        func shardName(_ i: Int) -> String {
            "model-\(String(format: "%05d", i + 1))-of-\(String(format: "%05d", shardCount)).safetensors"
        }
        for (i, t) in llama.tensors.enumerated() {
            try writers[i % shardCount].add(t.name, dtype: t.dtype, shape: t.shape, data: Data(llama.data(of: t)))
            map[t.name] = shardName(i % shardCount)
        }
        for (shard, names) in extraInShard {
            for n in names {
                let t = try llama.tensor(named: n)
                try writers[shard].add(t.name, dtype: t.dtype, shape: t.shape, data: Data(llama.data(of: t)))
            }
        }
        for (i, w) in writers.enumerated() where !skipShards.contains(i) {
            try w.write(to: model.appendingPathComponent(shardName(i)).path)
        }
        for (k, v) in overrides { map[k] = v }
        let json = try indexJSON ?? String(decoding: JSONSerialization.data(
            withJSONObject: ["metadata": ["total_size": 361_728], "weight_map": map], options: [.sortedKeys]), as: UTF8.self)
        try json.write(to: model.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        return model.path
    }

    private func expectError(_ directory: String, field: String?, _ fragment: String,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelWeights(directory: directory)
            Issue.record("loaded a broken model directory", sourceLocation: sourceLocation)
        } catch let error as LFError {
            #expect(error.location?.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\"\(fragment)\" not in \(error)", sourceLocation: sourceLocation)
            #expect(error.location?.file.hasPrefix(directory) == true, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not an LFError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func singleFile() throws {
        let weights = try ModelWeights(directory: Fixtures.path("models/llama"))
        #expect(weights.files.count == 1)
        #expect(weights.sourcePath.hasSuffix("model.safetensors"))
        #expect(weights.names == llama.names.sorted())
        let (file, t) = try #require(weights.tensor("model.norm.weight"))
        #expect(file.path == llama.path)
        #expect(t.shape == [64])
        #expect(try weights.floats("model.norm.weight") == llama.floats("model.norm.weight"))
        #expect(weights.tensor("nope") == nil)
        #expect(throws: LFError.self) { try weights.floats("nope") }
    }

    @Test func shardedDirectoryLoads() throws {
        let path = try makeSharded("ok")
        let weights = try ModelWeights(directory: path)
        #expect(weights.files.count == 3)
        #expect(weights.sourcePath.hasSuffix("model.safetensors.index.json"))
        #expect(weights.declaredTotalSize == 361_728)
        #expect(weights.names == llama.names.sorted())
        for name in llama.names {
            #expect(try weights.floats(name) == llama.floats(name))
        }
        #expect(weights.tensor("model.layers.0.mlp.up_proj.weight")?.0.path.hasSuffix("-of-00003.safetensors") == true)
    }

    @Test func indexWithoutTotalSize() throws {
        let map = Dictionary(uniqueKeysWithValues: llama.tensors.enumerated().map {
            ($0.element.name, "model-0000\($0.offset % 2 + 1)-of-00002.safetensors")
        })
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["weight_map": map]), as: UTF8.self)
        let path = try makeSharded("nototal", shardCount: 2, indexJSON: json)
        let weights = try ModelWeights(directory: path)
        #expect(weights.declaredTotalSize == nil)
        #expect(weights.names.count == 20)
    }

    @Test func missingShard() throws {
        let path = try makeSharded("missing", skipShards: [1])
        // The error names the first tensor (by name) that the index maps to the missing shard.
        let first = llama.tensors.enumerated().filter { $0.offset % 3 == 1 }.map(\.element.name).min()
        expectError(path, field: first, "does not exist")
    }

    @Test func nameMappedToShardThatLacksIt() throws {
        let path = try makeSharded("wrongshard", weightMap: ["model.norm.weight": "model-00001-of-00003.safetensors"])
        do {
            _ = try ModelWeights(directory: path)
            Issue.record("loaded")
        } catch let error as LFError {
            #expect(error.location?.field == "model.norm.weight")
            #expect(error.message.contains("stored in") || error.message.contains("does not hold"))
        }
        // A name in the index that no shard holds at all.
        let ghost = try makeSharded("ghost", weightMap: ["ghost.weight": "model-00002-of-00003.safetensors"])
        expectError(ghost, field: "ghost.weight", "does not hold it")
    }

    @Test func tensorInTwoShards() throws {
        let path = try makeSharded("twice", extraInShard: [0: ["model.norm.weight"]])
        expectError(path, field: "model.norm.weight", "two shards")
    }

    @Test func tensorMissingFromIndex() throws {
        let path = try makeSharded("unlisted", weightMap: ["model.norm.weight": nil])
        expectError(path, field: "model.norm.weight", "missing from the index")
    }

    @Test func indexPointingOutsideTheDirectory() throws {
        for bad in ["../model-00001-of-00003.safetensors", "/etc/passwd", "a/../../x.safetensors", ""] {
            let path = try makeSharded("outside\(abs(bad.hashValue))", weightMap: ["model.norm.weight": bad])
            expectError(path, field: "weight_map", "outside the model directory")
        }
    }

    @Test func brokenIndexJSON() throws {
        let path = try makeSharded("badjson", indexJSON: "{\"weight_map\": [1, 2]}")
        expectError(path, field: "weight_map", "wrong type")
        let path2 = try makeSharded("nomap", indexJSON: "{\"metadata\": {}}")
        expectError(path2, field: "weight_map", "missing required field")
        let path3 = try makeSharded("notjson", indexJSON: "{weight_map")
        expectError(path3, field: nil, "not valid JSON")
    }

    @Test func noWeightsAtAll() throws {
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try Data().write(to: empty.appendingPathComponent("pytorch_model.bin"))
        do {
            _ = try ModelWeights(directory: empty.path)
            Issue.record("loaded")
        } catch let error as LFError {
            #expect(error.message.contains("model.safetensors"))
            #expect(error.hint?.contains("pytorch_model.bin") == true)
        }
        #expect(throws: LFError.self) { try ModelWeights(directory: empty.appendingPathComponent("nope").path) }
    }

    @Test func damagedShardNamesTheShard() throws {
        let path = try makeSharded("damaged")
        let shard = (path as NSString).appendingPathComponent("model-00002-of-00003.safetensors")
        let bytes = try ST.bytes(of: shard)
        try Data(bytes.prefix(bytes.count - 3)).write(to: URL(fileURLWithPath: shard))
        do {
            _ = try ModelWeights(directory: path)
            Issue.record("loaded")
        } catch let error as LFError {
            #expect(error.location?.file == shard)
        }
    }
}
