import Foundation
import Shared
import Testing
import TestSupport

/// Saving and loading optimizer state: bit-exact round trips, resumes that end where an
/// uninterrupted run ends, and refusals that name the tensor.
@Suite struct OptimizerStateTests {
    /// Deterministic values in (−1, 1).
    struct Numbers {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        mutating func take(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    static let shapes: [(String, [Int])] = [("layer.lora_A.weight", [4, 6]), ("layer.lora_B.weight", [5, 4]), ("norm", [3])]

    static func parameters(seed: UInt64 = 1, shapes: [(String, [Int])] = shapes) -> ParameterSet {
        var numbers = Numbers(state: seed)
        return ParameterSet(shapes.map { ($0.0, $0.1, numbers.take($0.1.reduce(1, *))) }, decays: { $0 != "norm" })
    }

    /// A copy of `set`'s current values, bit for bit (what a checkpoint's adapter file holds).
    static func copy(_ set: ParameterSet) -> ParameterSet {
        ParameterSet(set.parameters.map { ($0.name, $0.shape, set.values($0)) }, decays: { $0 != "norm" })
    }

    /// Gradients for step `step`, the same for every run.
    static func setGradients(_ set: ParameterSet, step: Int) {
        var numbers = Numbers(state: 1000 + UInt64(step))
        set.setGradients { numbers.take($0.count).map { $0 * 0.1 } }
    }

    static func run(_ optimizer: Optimizer, _ set: ParameterSet, steps: Range<Int>) {
        for s in steps {
            setGradients(set, step: s)
            clipGradients(set.parameters, maxNorm: 1)
            optimizer.step(learningRate: 1e-2 * Double(s + 1) / 5)
        }
    }

    static func stateBits(_ optimizer: Optimizer) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.values.map(\.bitPattern)) })
    }

    func temporaryFile() throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory("lf-optim")
        return (dir, dir.appendingPathComponent("optimizer.safetensors").path)
    }

    typealias Make = @Sendable ([TrainableParameter]) throws -> Optimizer
    static let makers: [(String, Make)] = [
        ("adamw", { try AdamW(parameters: $0, weightDecay: 0.01) }),
        ("sgd momentum", { try SGD(parameters: $0, momentum: 0.9, weightDecay: 0.01) }),
        ("sgd", { try SGD(parameters: $0) }),
    ]

    @Test(arguments: [0, 1, 2])
    func resumeEndsBitIdenticalToAnUninterruptedRun(maker: Int) throws {
        let (label, make) = Self.makers[maker]
        let (dir, path) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: dir) }

        let straight = Self.parameters()
        let straightOptimizer = try make(straight.parameters)
        Self.run(straightOptimizer, straight, steps: 0..<5)

        let first = Self.parameters()
        let firstOptimizer = try make(first.parameters)
        Self.run(firstOptimizer, first, steps: 0..<3)
        try firstOptimizer.saveState(to: path)

        let resumed = Self.copy(first)
        let resumedOptimizer = try make(resumed.parameters)
        try resumedOptimizer.loadState(from: path)
        #expect(resumedOptimizer.stepCount == 3, "\(label)")
        #expect(Self.stateBits(resumedOptimizer) == Self.stateBits(firstOptimizer), "\(label): state after the round trip")
        Self.run(resumedOptimizer, resumed, steps: 3..<5)

        #expect(resumed.bits == straight.bits, "\(label): parameters after resuming")
        #expect(Self.stateBits(resumedOptimizer) == Self.stateBits(straightOptimizer), "\(label): state after resuming")
        #expect(resumedOptimizer.stepCount == 5)
    }

    @Test func fileLayout() throws {
        let (dir, path) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = Self.parameters()
        let adamw = try AdamW(parameters: set.parameters)
        Self.run(adamw, set, steps: 0..<2)
        try adamw.saveState(to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "optimizer": "adamw", "step": "2"])
        #expect(Set(file.names) == Set(Self.shapes.flatMap { [$0.0 + ".exp_avg", $0.0 + ".exp_avg_sq"] }))
        for t in file.tensors {
            #expect(t.dtype == .f32)
            #expect(t.shape == Self.shapes.first { t.name.hasPrefix($0.0 + ".") }?.1)
        }

        let sgdSet = Self.parameters()
        let sgd = try SGD(parameters: sgdSet.parameters, momentum: 0.5)
        sgd.step(learningRate: 0.1)
        let sgdFile = try SafetensorsFile(path: { try sgd.saveState(to: path); return path }())
        #expect(sgdFile.metadata == ["format": "pt", "optimizer": "sgd", "step": "1"])
        #expect(Set(sgdFile.names) == Set(Self.shapes.map { $0.0 + ".momentum_buffer" }))

        // Plain SGD has no state: a file with metadata only, which loads back.
        let plain = try SGD(parameters: sgdSet.parameters)
        plain.step(learningRate: 0.1)
        try plain.saveState(to: path)
        #expect(try SafetensorsFile(path: path).tensors.isEmpty)
        let again = try SGD(parameters: sgdSet.parameters)
        try again.loadState(from: path)
        #expect(again.stepCount == 1)
    }

    /// Loads `path` into `optimizer`, expects an LFError whose text holds every one of `needles`,
    /// and checks that the optimizer's state did not change.
    func expectRefusal(_ optimizer: Optimizer, _ path: String, _ needles: [String],
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let before = Self.stateBits(optimizer), stepsBefore = optimizer.stepCount
        do {
            try optimizer.loadState(from: path)
            Issue.record("loading \(path) should have failed", sourceLocation: sourceLocation)
        } catch let error as LFError {
            for needle in needles {
                #expect(error.description.contains(needle), "\"\(error)\" should mention \(needle)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        #expect(Self.stateBits(optimizer) == before && optimizer.stepCount == stepsBefore, "state changed by a refused load",
                sourceLocation: sourceLocation)
    }

    @Test func mismatchedStateIsRefusedNamingTheTensor() throws {
        let (dir, path) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = Self.parameters()
        let saved = try AdamW(parameters: set.parameters)
        Self.run(saved, set, steps: 0..<2)
        try saved.saveState(to: path)

        // A parameter the state does not have.
        let more = Self.parameters(shapes: Self.shapes + [("extra.lora_A.weight", [2, 2])])
        let moreOptimizer = try AdamW(parameters: more.parameters)
        Self.run(moreOptimizer, more, steps: 0..<1)
        expectRefusal(moreOptimizer, path, [path, "\"extra.lora_A.weight.exp_avg\"", "missing"])

        // A tensor for a parameter that is not there.
        let fewer = Self.parameters(shapes: Array(Self.shapes.prefix(2)))
        expectRefusal(try AdamW(parameters: fewer.parameters), path, [path, "\"norm.exp_avg\"", "belongs to no parameter"])

        // The same names with another shape (another LoRA rank).
        let reshaped = Self.parameters(shapes: [("layer.lora_A.weight", [8, 6]), ("layer.lora_B.weight", [5, 8]), ("norm", [3])])
        expectRefusal(try AdamW(parameters: reshaped.parameters), path, [path, "\"layer.lora_A.weight.exp_avg\"", "[8, 6]", "[4, 6]"])

        // Another optimizer's state.
        expectRefusal(try SGD(parameters: set.parameters, momentum: 0.9), path, [path, "\"adamw\"", "\"sgd\""])
    }

    @Test func malformedFilesAreRefused() throws {
        let (dir, path) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = Self.parameters(shapes: [("w", [2])])
        let adamw = try AdamW(parameters: set.parameters)

        func write(_ metadata: [String: String], dtype: DType = .f32) throws {
            var writer = SafetensorsWriter(metadata: metadata)
            try writer.addFloats("w.exp_avg", shape: [2], values: [1, 2], as: dtype)
            try writer.addFloats("w.exp_avg_sq", shape: [2], values: [1, 2], as: .f32)
            try writer.write(to: path)
        }
        try write(["format": "pt"])
        expectRefusal(adamw, path, [path, "not an lf optimizer state"])
        try write(["format": "pt", "optimizer": "adamw", "step": "two"])
        expectRefusal(adamw, path, [path, "\"step\""])
        try write(["format": "pt", "optimizer": "adamw", "step": "-1"])
        expectRefusal(adamw, path, [path, "\"step\""])
        try write(["format": "pt", "optimizer": "adamw", "step": "2"], dtype: .bf16)
        expectRefusal(adamw, path, [path, "\"w.exp_avg\"", "BF16"])
        try write(["format": "pt", "optimizer": "adamw", "step": "2"])
        try adamw.loadState(from: path)
        #expect(adamw.stepCount == 2)

        // torch's own state (the fixture) has no lf metadata: restore it through restore(state:).
        let fixture = Fixtures.path("models/llama/optimizer_step1.safetensors")
        let llama = try ParameterSet(file: SafetensorsFile(path: Fixtures.path("models/llama/adapter/adapter_model.safetensors")))
        expectRefusal(try AdamW(parameters: llama.parameters), fixture, [fixture, "not an lf optimizer state"])
    }

    @Test func restoreFromTuplesChecksItsInput() throws {
        let set = Self.parameters(shapes: [("w", [2])])
        let adamw = try AdamW(parameters: set.parameters)
        let good: [OptimizerStateTensor] = [("w.exp_avg", [2], [1, 2]), ("w.exp_avg_sq", [2], [3, 4])]
        #expect(throws: LFError.self) { try adamw.restore(state: good, stepCount: -1) }
        #expect(throws: LFError.self) { try adamw.restore(state: good + [good[0]], stepCount: 1) }
        #expect(throws: LFError.self) { try adamw.restore(state: [("w.exp_avg", [2], [1]), good[1]], stepCount: 1) }
        #expect(adamw.stepCount == 0)
        try adamw.restore(state: good, stepCount: 7)
        #expect(adamw.stepCount == 7)
        #expect(adamw.stateTensors().map(\.values) == [[1, 2], [3, 4]])
    }
}
