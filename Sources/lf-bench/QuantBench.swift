import Dispatch
import Foundation
import Shared

/// Block-quantised weights: dequantisation and matvec speed, error on real matrices, and the
/// effect on a model's loss.
extension LFBench {
    /// GB/s of `dequantizeRows` (float32 written) over a whole matrix and over the 4 MiB row blocks
    /// the batched products widen at a time; matvec GB/s of bytes read.
    static func quant(rows: Int, cols: Int) {
        let count = rows * cols
        let source = UnsafeMutablePointer<Float>.allocate(capacity: count)
        var rng = SplitMix64(seed: 7)
        for i in 0..<count { source[i] = Float(Int(rng.next() % 2001) - 1000) * 1e-5 }
        let arena = Arena()
        defer { withExtendedLifetime(arena) {} }  // q8 and q4 below are views into it
        let bf16 = arena.halves(count)
        HalfPrecision.narrowToBF16(source, bf16, count: count)
        var start = DispatchTime.now().uptimeNanoseconds
        let q8 = Q8Matrix(quantizing: source, rows: rows, cols: cols, arena: arena)
        let q8Seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        start = DispatchTime.now().uptimeNanoseconds
        let q4 = Q4Matrix(quantizing: source, rows: rows, cols: cols, arena: arena)
        let q4Seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let blockRows = max(1, min(rows, (1 << 20) / cols))
        func blocks(_ widen: (Int, Int) -> Void) {
            var o = 0
            while o < rows {
                let n = min(blockRows, rows - o)
                widen(o, n)
                o += n
            }
        }
        let wholeBF16 = time(runs: 7) { HalfPrecision.widenBF16(bf16, out, count: count) }
        let wholeQ8 = time(runs: 7) { q8.dequantizeRows(0, rows, into: out) }
        let wholeQ4 = time(runs: 7) { q4.dequantizeRows(0, rows, into: out) }
        let blockBF16 = time(runs: 7) { blocks { o, n in HalfPrecision.widenBF16(bf16 + o * cols, out, count: n * cols) } }
        let blockQ8 = time(runs: 7) { blocks { o, n in q8.dequantizeRows(o, n, into: out) } }
        let blockQ4 = time(runs: 7) { blocks { o, n in q4.dequantizeRows(o, n, into: out) } }
        let f32Bytes = Double(count * 4)
        print(String(format: "quantise %d x %d on %d cores: q8 %.2f s, q4 %.2f s (%.0f / %.0f M values/s)", rows, cols, Parallel.coreCount,
                     q8Seconds, q4Seconds, Double(count) / q8Seconds / 1e6, Double(count) / q4Seconds / 1e6))
        print(String(format: "dequantise to float32, one thread, GB/s of float32 written (whole matrix | %d-row blocks into one 4 MiB buffer):",
                     blockRows))
        print(String(format: "  bf16 %.1f | %.1f   q8 %.1f | %.1f   q4 %.1f | %.1f", f32Bytes / wholeBF16 / 1e9, f32Bytes / blockBF16 / 1e9,
                     f32Bytes / wholeQ8 / 1e9, f32Bytes / blockQ8 / 1e9, f32Bytes / wholeQ4 / 1e9, f32Bytes / blockQ4 / 1e9))
        let x = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        for i in 0..<cols { x[i] = Float(i % 7) * 0.1 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        let mvBF16 = time { MatVec.bf16(y, bf16, x, rows: rows, cols: cols) }
        let mvQ8 = time { q8.matVec(y, x) }
        let mvQ4 = time { q4.matVec(y, x) }
        let q8Bytes = Double(Q8Matrix.byteCount(rows: rows, cols: cols)), q4Bytes = Double(Q4Matrix.byteCount(rows: rows, cols: cols))
        print(String(format: "matvec %d x %d (%d threads), GB/s read (float32-equivalent GB/s): bf16 %.1f (%.1f)  q8 %.1f (%.1f)  q4 %.1f (%.1f)",
                     rows, cols, Parallel.coreCount, f32Bytes / 2 / mvBF16 / 1e9, f32Bytes / mvBF16 / 1e9,
                     q8Bytes / mvQ8 / 1e9, f32Bytes / mvQ8 / 1e9, q4Bytes / mvQ4 / 1e9, f32Bytes / mvQ4 / 1e9))
    }

    /// RMS relative error sqrt(Σ (w − w')² / Σ w²) of q8 and q4 over a model's block matrices and
    /// its embedding (or untied head).
    static func quantError(model path: String) throws {
        let model = try TransformerModel.load(directory: path)
        var groups: [(String, [(UnsafeMutablePointer<Float>, Int, Int)])] = [("transformer blocks", []), ("LM head / embedding", [])]
        for block in model.blocks {
            for linear in [block.qkv, block.output, block.up, block.down] {
                if case .f32(let w) = linear.weight { groups[0].1.append((w, linear.outFeatures, linear.inFeatures)) }
            }
        }
        if case .f32(let w) = model.lmHead.weight { groups[1].1.append((w, model.lmHead.outFeatures, model.lmHead.inFeatures)) }
        print("RMS relative error, \((path as NSString).lastPathComponent):")
        for (name, matrices) in groups {
            var errors: [String: (Double, Double)] = ["q8": (0, 0), "q4": (0, 0)]
            for (w, rows, cols) in matrices {
                let arena = Arena()
                defer { withExtendedLifetime(arena) {} }
                let back = UnsafeMutablePointer<Float>.allocate(capacity: rows * cols)
                defer { back.deallocate() }
                for format in ["q8", "q4"] {
                    if format == "q8" {
                        Q8Matrix(quantizing: w, rows: rows, cols: cols, arena: arena).dequantizeRows(0, rows, into: back)
                    } else {
                        Q4Matrix(quantizing: w, rows: rows, cols: cols, arena: arena).dequantizeRows(0, rows, into: back)
                    }
                    var e: Double = 0, n: Double = 0
                    for i in 0..<(rows * cols) {
                        let d = Double(w[i] - back[i])
                        e += d * d
                        n += Double(w[i]) * Double(w[i])
                    }
                    errors[format]!.0 += e
                    errors[format]!.1 += n
                }
            }
            print(String(format: "  %-20@ (%3d matrices): q8 %.4f  q4 %.4f", name as NSString, matrices.count,
                         (errors["q8"]!.0 / errors["q8"]!.1).squareRoot(), (errors["q4"]!.0 / errors["q4"]!.1).squareRoot()))
        }
    }

    /// Mean loss per token of a text file cut into 512-token rows (every token after the first of
    /// a row scored), with the base held as `format`.
    static func loss(model path: String, text: String, format: WeightFormat) throws {
        let tokenizer = try Tokenizer.load(directory: path)
        let ids = tokenizer.encode(try String(contentsOfFile: text, encoding: .utf8), parseSpecial: false)
        let T = 512
        guard ids.count >= T else { throw LFError("\(text) has \(ids.count) tokens; at least \(T) are needed") }
        let model = try TransformerModel.load(directory: path, weightType: format)
        let engine = TrainingEngine(model: model)
        var sum: Double = 0, count = 0
        for start in stride(from: 0, to: ids.count - T + 1, by: T) {
            let batch = TrainingBatch(sequences: [PackedSequence(ids: Array(ids[start..<(start + T)]), mask: [Bool](repeating: true, count: T))])
            sum += try engine.loss(batch)
            count += batch.targetCount
        }
        print(String(format: "loss %@ (%@ base): %.5f per token over %d tokens (perplexity %.3f); weights %.0f MiB",
                     (path as NSString).lastPathComponent, format.rawValue, sum / Double(count), count, exp(sum / Double(count)),
                     Double(model.weightBytes) / 1048576))
    }
}
