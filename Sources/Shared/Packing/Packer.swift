import Dispatch
import Foundation

/// The whole of `lf-tokenize pack`: dataset JSONL files → documents (RecordEncoder) → shuffled,
/// optionally packed sequences (SequencePacker) → a shard directory (ShardWriter).
///
/// Records are read in batches and encoded on all cores; results keep input order, so the output
/// depends only on the inputs, the tokenizer, the template and the options (and `seed`). Every
/// record is accounted for in the manifest's counts: kept, truncated, split, or dropped by reason.
public struct Packer {
    public let encoder: RecordEncoder
    /// Count and skip records that are not valid (instead of stopping at the first one).
    public var skipInvalid = false
    public var shardSize = ShardWriter.defaultShardSize
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var batchSize = 1024

    public init(encoder: RecordEncoder) {
        self.encoder = encoder
    }

    /// Tokenized documents held in flat arrays until they are packed.
    struct DocumentStore {
        var ids: [Int32] = []
        var mask: [Bool] = []
        var starts: [Int] = [0]
        var count: Int { starts.count - 1 }

        mutating func append(_ d: Document) {
            ids += d.ids
            mask += d.mask
            starts.append(ids.count)
        }

        func length(_ i: Int) -> Int { starts[i + 1] - starts[i] }
    }

    /// Packs `inputs` (paths, `-` for stdin) into the shard directory `output` and returns its manifest.
    @discardableResult
    public func run(inputs: [String], output: String, tokenizerFingerprint: String, vocabularySize: Int,
                    progress: ProgressReporter? = nil) throws -> ShardManifest {
        try ShardWriter.checkOutputDirectory(output)
        var counts = ShardManifest.Counts()
        var store = DocumentStore()
        for input in inputs {
            try readAndEncode(input, into: &store, counts: &counts, progress: progress)
        }
        progress?.finish()
        guard store.count > 0 else {
            throw LFError("nothing to pack: \(counts.records) records read, \(counts.droppedTotal) dropped",
                          at: SourceLocation(file: inputs.joined(separator: ", ")),
                          hint: counts.records == 0 ? "the input holds no records" : "see the counts of dropped records; a larger --max-len may help")
        }
        counts.documents = store.count

        let options = encoder.options
        var generator = SeededGenerator(seed: options.seed)
        var order = Array(0 ..< store.count)
        if options.shuffle { generator.shuffle(&order) }
        var bins: [[Int]]
        if options.packing {
            bins = SequencePacker.pack(lengths: (0 ..< store.count).map(store.length), order: order, capacity: options.maxLength)
            if options.shuffle { generator.shuffle(&bins) }
        } else {
            bins = order.map { [$0] }
        }

        let writer = try ShardWriter(directory: output, vocabularySize: vocabularySize, shardSizeLimit: shardSize)
        do {
            for bin in bins {
                var ids: [Int32] = []
                var mask: [Bool] = []
                var starts: [Int] = []
                for d in bin {
                    starts.append(ids.count)
                    ids += store.ids[store.starts[d] ..< store.starts[d + 1]]
                    mask += store.mask[store.starts[d] ..< store.starts[d + 1]]
                }
                try writer.append(PackedSequence(ids: ids, mask: mask, documentStarts: starts))
            }
            let manifest = ShardManifest(tokenizerFingerprint: tokenizerFingerprint, vocabularySize: vocabularySize,
                                         template: ShardManifest.Template(encoder.template), maxLength: options.maxLength,
                                         packing: options.packing, settings: options.manifestSettings, counts: counts)
            return try writer.finish(manifest)
        } catch {
            writer.abort()
            throw error
        }
    }

    private func readAndEncode(_ input: String, into store: inout DocumentStore, counts: inout ShardManifest.Counts,
                               progress: ProgressReporter?) throws {
        var batch: [(file: String, line: Int, record: Result<DatasetRecord, InvalidRecord>)] = []
        func flush() throws {
            let outcomes = encodeConcurrently(batch.map(\.record))
            for (item, outcome) in zip(batch, outcomes) {
                counts.records += 1
                switch outcome {
                case .failure(let invalid):
                    guard skipInvalid, !invalid.isFatal else { throw invalid.error(file: item.file, line: item.line) }
                    counts.recordsDropped[invalid.reason, default: 0] += 1
                case .success(let encoded):
                    if case .success(.text) = item.record { counts.textRecords += 1 } else { counts.chatRecords += 1 }
                    switch encoded {
                    case .dropped(let reason):
                        counts.recordsDropped[reason, default: 0] += 1
                    case .documents(let documents, let truncated, let split):
                        if truncated { counts.recordsTruncated += 1 }
                        if split { counts.textRecordsSplit += 1 }
                        for d in documents { store.append(d) }
                    }
                }
            }
            progress?.advance(by: batch.count)
            batch.removeAll(keepingCapacity: true)
        }
        try DatasetReader(path: input).forEachRecord { file, line, record in
            batch.append((file, line, record))
            if batch.count >= batchSize { try flush() }
        }
        try flush()
    }

    /// Encodes records on `threads` threads; element i of the result belongs to record i.
    func encodeConcurrently(_ records: [Result<DatasetRecord, InvalidRecord>]) -> [Result<EncodedRecord, InvalidRecord>] {
        var results = [Result<EncodedRecord, InvalidRecord>?](repeating: nil, count: records.count)
        let encoder = self.encoder
        let work = { (i: Int) -> Result<EncodedRecord, InvalidRecord> in
            switch records[i] {
            case .failure(let invalid): return .failure(invalid)
            case .success(let record):
                do {
                    return .success(try encoder.encode(record))
                } catch let error as ConversationError {
                    return .failure(InvalidRecord(reason: error.reason, message: error.description, field: "messages", hint: error.hint))
                } catch let error as LFError {
                    return .failure(InvalidRecord(reason: "fatal", message: error.message, field: nil, hint: error.hint))
                } catch {
                    return .failure(InvalidRecord(reason: "fatal", message: "\(error)", field: nil, hint: nil))
                }
            }
        }
        let chunks = max(1, min(threads, records.count / 16))
        results.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var i = c
                while i < records.count {
                    out[i] = work(i)
                    i += chunks
                }
            }
        }
        return results.map { $0! }
    }
}

extension ShardManifest.Template {
    /// What the manifest records of a chat template (lf-train and lf-eval render prompts with it).
    public init(_ template: ChatTemplate) {
        self.init(name: template.name, defaultSystem: template.defaultSystem, bosToken: template.bosToken,
                  eosToken: template.eosToken, stopTokens: template.stopTokens)
    }
}
