import Foundation

/// A checkpoint directory `checkpoint-N` inside the output: the adapter after step N, the
/// optimiser state, and where the run stood (step, data, settings that must not change on resume).
/// Data order and dropout are functions of (seed, step), so the step is the whole RNG state.
public struct CheckpointPosition: Codable, Sendable, Equatable {
    public static let fileName = "training_position.json"
    public var step: Int
    public var totalSteps: Int
    public var seed: Int
    public var microBatch: Int
    public var accumulation: Int
    public var sequenceCount: Int
    /// Training tokens processed so far (tokens/s and the log's `num_input_tokens_seen`).
    public var tokensSeen: Int
    /// The sum of the step losses logged so far and their count (train_results' `train_loss`).
    public var lossSum: Double
    public var lossCount: Int
    /// The sum of the step losses since the last log line and their count: the next line logs
    /// their mean, so a run resumed between two log lines logs what the uninterrupted run does.
    public var windowLossSum: Double
    public var windowSteps: Int
    public var bestEvalLoss: Double?
    public var bestCheckpoint: String?

    enum CodingKeys: String, CodingKey {
        case step, seed, microBatch = "micro_batch", accumulation = "gradient_accumulation_steps"
        case totalSteps = "total_steps", sequenceCount = "sequence_count", tokensSeen = "tokens_seen"
        case lossSum = "loss_sum", lossCount = "loss_count", windowLossSum = "window_loss_sum", windowSteps = "window_steps"
        case bestEvalLoss = "best_eval_loss", bestCheckpoint = "best_checkpoint"
    }
}

enum Checkpoints {
    static let prefix = "checkpoint-"
    static let optimizerFile = "optimizer.safetensors"

    /// `checkpoint-N` directories of `output`, oldest first.
    static func list(in output: String) -> [(step: Int, path: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        return entries.compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)) else { return nil }
            return (n, (output as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    static func readPosition(_ directory: String) throws -> CheckpointPosition {
        let path = (directory as NSString).appendingPathComponent(CheckpointPosition.fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LFError("the checkpoint has no \(CheckpointPosition.fileName)", at: SourceLocation(file: directory),
                          hint: "it is not an lf-train checkpoint, or it was not finished")
        }
        do { return try JSONDecoder().decode(CheckpointPosition.self, from: data) } catch {
            throw LFError.input("\(CheckpointPosition.fileName) does not parse: \(error)", file: path)
        }
    }

    static func positionJSON(_ position: CheckpointPosition) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(position)
        data.append(0x0A)
        return data
    }
}
