import Foundation
import Shared
import TestSupport

/// Trainable parameters whose values the test owns: loaded from an adapter file or made by hand.
final class ParameterSet {
    let parameters: [TrainableParameter]
    private let storage: [UnsafeMutablePointer<Float>]

    /// One parameter per (name, shape, values), all decaying unless `decays` says otherwise.
    init(_ tensors: [(name: String, shape: [Int], values: [Float])], decays: (String) -> Bool = { _ in true }) {
        var storage: [UnsafeMutablePointer<Float>] = []
        var parameters: [TrainableParameter] = []
        for t in tensors {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(t.values.count, 1))
            buffer.initialize(repeating: 0, count: t.values.count)
            for (i, x) in t.values.enumerated() { buffer[i] = x }
            storage.append(buffer)
            parameters.append(TrainableParameter(name: t.name, shape: t.shape, value: buffer, decays: decays(t.name)))
        }
        self.parameters = parameters
        self.storage = storage
    }

    /// Every tensor of a safetensors file (an adapter), in file order.
    convenience init(file: SafetensorsFile) throws {
        self.init(try file.tensors.map { ($0.name, $0.shape, try file.floats($0.name)) })
    }

    deinit { storage.forEach { $0.deallocate() } }

    func values(_ p: TrainableParameter) -> [Float] { Array(UnsafeBufferPointer(start: p.value, count: p.count)) }
    func gradient(_ p: TrainableParameter) -> [Float] { Array(UnsafeBufferPointer(start: p.gradient, count: p.count)) }

    func setGradients(_ values: (TrainableParameter) throws -> [Float]) rethrows {
        for p in parameters {
            let g = try values(p)
            precondition(g.count == p.count, "gradient of \(p.name) has \(g.count) values, not \(p.count)")
            for i in 0..<p.count { p.gradient[i] = g[i] }
        }
    }

    /// Every parameter value, bit pattern by bit pattern.
    var bits: [[UInt32]] { parameters.map { p in values(p).map(\.bitPattern) } }
}
