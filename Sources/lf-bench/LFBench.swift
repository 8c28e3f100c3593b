import Dispatch
import Foundation
import Shared

/// Kernel micro-benchmarks (not one of the seven tools): the machine's matrix-vector bandwidth and
/// sgemm FLOP/s on the shapes lf uses, for the benchmark scripts and for tuning.
///
///   lf-bench blas                    the OpenBLAS kernels in use (core type, after BLASKernelChoice)
///   lf-bench matvec [ROWS COLS]      GB/s of MatVec.f32 / MatVec.bf16 / cblas_sgemv
///   lf-bench sgemm M N K [NT|NN|TN]  GFLOP/s of BLAS.gemm and BLAS.parallelGemm (op(A), op(B))
///   lf-bench narrow                  GFLOP/s of LoRA's dt and dB products: OpenBLAS, LoRAOutputGradient
///   lf-bench lowrank                 GFLOP/s of LoRA's t, dx and y products: OpenBLAS, LowRankProduct
///   lf-bench attention [SEQ BATCH]   useful GFLOP/s of training attention, forward and backward
///   lf-bench quant [ROWS COLS]       GB/s of q8/q4 dequantisation (and bf16 widening) and matvec
///   lf-bench quant-error MODEL       RMS relative error of q8/q4 on a model's matrices
///   lf-bench loss MODEL TEXT [--base-dtype F]   mean token loss of a text file in 512-token rows
///   lf-bench train MODEL [SEQ BATCH STEPS] [--grad-checkpoint] [--base-dtype F]
///                                    tokens/s of the training engine's forward + backward (STEPS
///                                    passes after a warm-up; 0: one pass, timed), and the
///                                    process's peak resident memory (VmHWM)
@main
enum LFBench {
    static func main() {
        BLASKernelChoice.reexecIfMismatched()
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "blas":
            // The kernels OpenBLAS runs here (after lf's own correction, see BLASKernelChoice).
            print(BLASKernelChoice.currentCore)
        case "matvec":
            let rows = args.count > 2 ? Int(args[1]) ?? 49152 : 49152
            let cols = args.count > 2 ? Int(args[2]) ?? 576 : 576
            matvec(rows: rows, cols: cols)
        case "sgemm":
            let m = args.count > 3 ? Int(args[1]) ?? 2048 : 2048, n = args.count > 3 ? Int(args[2]) ?? 1536 : 1536
            let k = args.count > 3 ? Int(args[3]) ?? 576 : 576
            let flags = args.count > 4 ? args[4] : "NT"
            sgemm(m: m, n: n, k: k, transA: flags.first == "T", transB: flags.last == "T")
        case "narrow":
            narrow()
        case "lowrank":
            lowRank()
        case "attention":
            let sequence = args.count > 2 ? Int(args[1]) ?? 512 : 512, batch = args.count > 2 ? Int(args[2]) ?? 4 : 4
            attention(sequence: sequence, batch: batch)
        case "quant":
            let rows = args.count > 2 ? Int(args[1]) ?? 8192 : 8192
            let cols = args.count > 2 ? Int(args[2]) ?? 2048 : 2048
            quant(rows: rows, cols: cols)
        case "quant-error" where args.count > 1:
            run { try quantError(model: args[1]) }
        case "loss" where args.count > 2:
            run { try loss(model: args[1], text: args[2], format: try baseFormat(args)) }
        case "train" where args.count > 1:
            // Positional numbers come before the flags.
            let numbers = args.dropFirst(2).prefix { !$0.hasPrefix("--") }.map { Int($0) }
            let number = { (i: Int, fallback: Int) in i < numbers.count ? numbers[i] ?? fallback : fallback }
            run {
                try train(model: args[1], sequence: number(0, 512), batch: number(1, 4), steps: number(2, 3),
                          checkpointing: args.contains("--grad-checkpoint"), format: try baseFormat(args))
            }
        default:
            print("usage: lf-bench blas | matvec [ROWS COLS] | sgemm M N K | narrow | lowrank | attention [SEQ BATCH] | quant [ROWS COLS] | quant-error MODEL | "
                  + "loss MODEL TEXT [--base-dtype f32|bf16|q8|q4] | "
                  + "train MODEL [SEQ BATCH STEPS] [--grad-checkpoint] [--base-dtype f32|bf16|q8|q4]")
            exit(2)
        }
    }

    static func run(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            print("lf-bench: \(error)")
            exit(1)
        }
    }

    /// `--base-dtype F` (default f32).
    static func baseFormat(_ args: [String]) throws -> WeightFormat {
        guard let i = args.firstIndex(of: "--base-dtype") else { return .f32 }
        guard i + 1 < args.count, let format = WeightFormat(rawValue: args[i + 1]) else {
            throw LFError.usage("--base-dtype takes f32, bf16, q8 or q4")
        }
        return format
    }

    /// Median of `runs` timings of `body`, in seconds.
    static func time(runs: Int = 15, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<runs {
            let t = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        return times.sorted()[runs / 2]
    }

    static func matvec(rows: Int, cols: Int) {
        // Several matrices so that each run reads from memory, not from the cache.
        let copies = max(1, (256 << 20) / (rows * cols * 4))
        let w = (0..<copies).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows * cols) }
        let h = (0..<copies).map { _ in UnsafeMutablePointer<UInt16>.allocate(capacity: rows * cols) }
        for c in 0..<copies {
            for i in 0..<(rows * cols) {
                w[c][i] = Float(i % 13) * 0.01
                h[c][i] = HalfPrecision.floatToBF16(w[c][i])
            }
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: cols)
        for i in 0..<cols { x[i] = 1 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        var c = 0
        let f32 = time { MatVec.f32(y, w[c % copies], x, rows: rows, cols: cols); c += 1 }
        let bf16 = time { MatVec.bf16(y, h[c % copies], x, rows: rows, cols: cols); c += 1 }
        let blas = time { BLAS.gemv(m: rows, n: cols, a: w[c % copies], x: x, y: y); c += 1 }
        let bytes = Double(rows * cols)
        print(String(format: "matvec %d x %d (%d threads): MatVec.f32 %.1f GB/s, MatVec.bf16 %.1f GB/s (%.1f GB/s of f32 equivalent), cblas_sgemv %.1f GB/s",
                     rows, cols, Parallel.coreCount, bytes * 4 / f32 / 1e9, bytes * 2 / bf16 / 1e9, bytes * 4 / bf16 / 1e9, bytes * 4 / blas / 1e9))
    }

    /// GFLOP/s of one product with OpenBLAS's threads and with `BLAS.parallelGemm` (lf's pool,
    /// OpenBLAS single-threaded in each part).
    static func sgemm(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = true) {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.1 }
        for i in 0..<(n * k) { b[i] = Float(i % 5) * 0.1 }
        let flops = 2 * Double(m * n * k)
        let threads = BLAS.threads
        // OpenBLAS's threads spin (sched_yield) for a while after they start and after each of its
        // threaded products; a split measured then shared a core with one (half its speed in 5
        // runs of 8 on a 2-core machine). So the split first, once they have gone to sleep.
        Thread.sleep(forTimeInterval: 0.5)
        let split = BLAS.singleThreaded { time(runs: 7) { BLAS.parallelGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: c) } }
        let openBLAS = time(runs: 7) { BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: c) }
        print(String(format: "sgemm %d x %d x %d (%@%@): %.1f GFLOP/s (OpenBLAS, %d threads), %.1f GFLOP/s (split over %d cores)", m, n, k,
                     transA ? "T" : "N", transB ? "T" : "N", flops / openBLAS / 1e9, threads, flops / split / 1e9, Parallel.coreCount))
    }

    /// LoRA's backward products of dy on SmolLM2's q|k|v shapes: dt and dB by OpenBLAS, one
    /// product each, against LoRAOutputGradient doing both in one pass.
    static func narrow() {
        let rows = 2048, O = 960, o = 576, r = 16
        let dy = UnsafeMutablePointer<Float>.allocate(capacity: rows * O), b = UnsafeMutablePointer<Float>.allocate(capacity: o * r)
        let t = UnsafeMutablePointer<Float>.allocate(capacity: rows * r), c = UnsafeMutablePointer<Float>.allocate(capacity: rows * r)
        let dB = UnsafeMutablePointer<Float>.allocate(capacity: o * r), partial = ScratchBuffer()
        for i in 0..<(rows * O) { dy[i] = Float(i % 7) * 0.1 }
        for i in 0..<(o * r) { b[i] = Float(i % 5) * 0.1 }
        for i in 0..<(rows * r) { t[i] = Float(i % 3) * 0.1 }
        dB.initialize(repeating: 0, count: o * r)
        let flops = 2 * Double(rows * o * r)
        BLAS.singleThreaded {
            let dtBLAS = time(runs: 9) { BLAS.parallelGemm(transA: true, transB: true, m: r, n: rows, k: o, a: b, lda: r, b: dy, ldb: O, c: c, ldc: rows) }
            let dBBLAS = time(runs: 9) { BLAS.parallelGemm(transA: true, m: r, n: o, k: rows, a: t, lda: r, b: dy, ldb: O, c: c) }
            let both = time(runs: 9) {
                LoRAOutputGradient.multiply(rows: rows, out: o, rank: r, alpha: 1, dy: dy, ldy: O, b: b, t: t, ldt: r, dB: dB, dtT: c,
                                            ldDt: rows, partial: partial)
            }
            print(String(format: "dt (2048 x 16 x 576) %.1f and dB (576 x 16 x 2048) %.1f GFLOP/s by OpenBLAS, both %.1f; "
                         + "both in one pass (LoRAOutputGradient) %.1f GFLOP/s",
                         flops / dtBLAS / 1e9, flops / dBBLAS / 1e9, 2 * flops / (dtBLAS + dBBLAS) / 1e9, 2 * flops / both / 1e9))
        }
    }

    /// LoRA's other products on SmolLM2's shapes (2048 rows; q|k|v's three slices of rank 16, so
    /// Σr = 48): OpenBLAS (split over the cores) against LowRankProduct. Alone, as here, the
    /// up-projections (dx, y) gain little or lose; in training LowRankProduct's gain is the pass
    /// over the output it saves the frozen product. t = x·Aᵀ stays with OpenBLAS, faster at it.
    static func lowRank() {
        let rows = 2048, I = 576, R = 48, O = 1536
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            for i in 0..<n { p[i] = Float(i % 7) * 0.1 - 0.3 }
            return p
        }
        let x = buffer(rows * I), a = buffer(R * I), aT = buffer(I * R), t = buffer(rows * R), dtT = buffer(R * rows)
        let dx = buffer(rows * I), b = buffer(O * 16), bT = buffer(16 * O), y = buffer(rows * O)
        let shapes: [(String, Double, () -> Void, () -> Void)] = [
            ("t = x·Aᵀ (2048 x 48 x 576)", 2 * Double(rows * R * I),
             { BLAS.parallelGemm(transB: true, m: rows, n: R, k: I, a: x, b: a, c: t) },
             { LowRankProduct.write(rows: rows, n: R, k: I, alpha: 1, t: x, rowStride: I, columnStride: 1, m: aT, ldm: R, out: t, ldo: R) }),
            ("dx += dt·A (2048 x 576 x 48)", 2 * Double(rows * R * I),
             { BLAS.parallelGemm(transA: true, m: rows, n: I, k: R, a: dtT, lda: rows, b: a, beta: 1, c: dx) },
             { LowRankProduct.write(rows: rows, n: I, k: R, alpha: 1, t: dtT, rowStride: 1, columnStride: rows, m: a, ldm: I,
                                       out: dx, ldo: I) }),
            ("y += s·t·Bᵀ (2048 x 1536 x 16)", 2 * Double(rows * O * 16),
             { BLAS.parallelGemm(transB: true, m: rows, n: O, k: 16, alpha: 2, a: t, lda: R, b: b, beta: 1, c: y) },
             { LowRankProduct.write(rows: rows, n: O, k: 16, alpha: 2, t: t, rowStride: R, columnStride: 1, m: bT, ldm: O, out: y, ldo: O) }),
        ]
        BLAS.singleThreaded {
            for (name, flops, blas, ours) in shapes {
                let (tb, to) = (time(runs: 9, blas), time(runs: 9, ours))
                print(String(format: "%@: OpenBLAS %.1f GFLOP/s, LowRankProduct %.1f GFLOP/s", name, flops / tb / 1e9, flops / to / 1e9))
            }
        }
    }

    /// LoRA r = 16 on every linear module, random tokens, every token trained.
    static func train(model path: String, sequence: Int, batch: Int, steps: Int, checkpointing: Bool, format: WeightFormat) throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let model = try TransformerModel.load(directory: path, weightType: format)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let afterLoad = peakResidentBytes() ?? 0
        let adapter = try TrainableAdapter.create(on: model, .init(targets: ["all"], rank: 16, alpha: 32, seed: 1))
        let engine = TrainingEngine(model: model, checkpointing: checkpointing)
        var rng = SplitMix64(seed: 1)
        let sequences = (0..<batch).map { _ in
            PackedSequence(ids: (0..<sequence).map { _ in Int32(rng.next() % UInt64(model.config.vocabSize)) },
                           mask: [Bool](repeating: true, count: sequence))
        }
        let micro = TrainingBatch(sequences: sequences)
        var times: [Double] = [], forward: [Double] = []
        for _ in 0..<(steps + 1) {
            adapter.zeroGradients()
            var t = DispatchTime.now().uptimeNanoseconds
            _ = try engine.accumulate(micro, gradientScale: 1 / Float(micro.targetCount))
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
            guard steps > 0, times.count > 1 else { continue }
            t = DispatchTime.now().uptimeNanoseconds
            _ = try engine.loss(micro)
            forward.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        // STEPS 0: the one pass is timed, warm-up included (for models where a pass takes minutes).
        let timed = steps == 0 ? times : Array(times.dropFirst())
        let median = timed.sorted()[timed.count / 2]
        if !forward.isEmpty { print(String(format: "forward alone %.2f s (median)", forward.sorted()[forward.count / 2])) }
        print(String(format: "train %@ (%@ base%@): %d x %d tokens, %d LoRA values, %.2f s per micro-batch (median of %d), %.1f tokens/s; "
                     + "weights %.0f MiB (loaded in %.1f s), activations %.0f MiB; peak RSS %.0f MiB after load, %.0f MiB at the end",
                     (path as NSString).lastPathComponent, format.rawValue, checkpointing ? ", checkpointing" : "", batch, sequence,
                     adapter.parameterCount, median, timed.count, Double(micro.rowCount) / median,
                     Double(model.weightBytes) / 1048576, loadSeconds, Double(engine.activationBytes) / 1048576,
                     Double(afterLoad) / 1048576, Double(peakResidentBytes() ?? 0) / 1048576))
    }
}
