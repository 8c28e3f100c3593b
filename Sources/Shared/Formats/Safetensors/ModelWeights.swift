import Foundation

/// The weights of a Hugging Face model directory: `model.safetensors`, or
/// `model.safetensors.index.json` and the shards it names. Every file is opened (memory-mapped and
/// validated) up front, and the index is checked against the shards: each name must be in the shard
/// the index says, no name may be in two shards, and no shard may hold a name the index omits.
public final class ModelWeights: @unchecked Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    public let directory: String
    /// `model.safetensors`, or the index file for a sharded model: the file to name when the set of
    /// tensors as a whole is wrong.
    public let sourcePath: String
    /// The opened files, in the order of their names.
    public let files: [SafetensorsFile]
    /// `metadata.total_size` from the index, when present (informational: exporters disagree on
    /// whether shared tensors count, so it is not checked).
    public let declaredTotalSize: Int?

    private let lookup: [String: (file: Int, tensor: SafetensorsTensor)]

    /// Every tensor name, sorted.
    public let names: [String]

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        let single = (directory as NSString).appendingPathComponent(Self.singleFileName)
        let indexPath = (directory as NSString).appendingPathComponent(Self.indexFileName)
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw LFError("model directory does not exist or is not a directory", at: SourceLocation(file: directory),
                          hint: "pass the folder holding config.json and the .safetensors files")
        }

        // transformers looks for the single file first, then the index; do the same.
        if fm.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            sourcePath = single
            files = [file]
            declaredTotalSize = nil
            var lookup: [String: (file: Int, tensor: SafetensorsTensor)] = [:]
            for t in file.tensors { lookup[t.name] = (0, t) }
            self.lookup = lookup
            names = lookup.keys.sorted()
            return
        }
        guard fm.fileExists(atPath: indexPath) else {
            let present = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter {
                $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".gguf") || $0.hasSuffix(".safetensors")
            }.sorted()
            throw LFError("no \(Self.singleFileName) or \(Self.indexFileName) in the model directory",
                          at: SourceLocation(file: directory),
                          hint: present.isEmpty
                              ? "lf reads Hugging Face safetensors checkpoints; download or save the model with save_pretrained"
                              : "found \(present.prefix(5).joined(separator: ", ")); lf reads only safetensors "
                                + "(convert PyTorch .bin checkpoints with transformers' save_pretrained(safe_serialization=True))")
        }
        sourcePath = indexPath
        let index = try ShardIndex.load(path: indexPath)
        declaredTotalSize = index.totalSize

        // Open each shard once, in name order.
        let shardNames = Set(index.weightMap.values).sorted()
        var files: [SafetensorsFile] = []
        var fileNumber: [String: Int] = [:]
        for shard in shardNames {
            try Self.checkShardName(shard, indexPath: indexPath)
            let path = (directory as NSString).appendingPathComponent(shard)
            guard fm.fileExists(atPath: path) else {
                let example = index.weightMap.filter { $0.value == shard }.keys.min() ?? ""
                throw LFError("shard \"\(shard)\" named by the index does not exist", at: SourceLocation(file: indexPath, field: example),
                              hint: "the download is incomplete: fetch every model-*.safetensors file of the checkpoint")
            }
            fileNumber[shard] = files.count
            files.append(try SafetensorsFile(path: path))
        }
        self.files = files

        // Every tensor in exactly one shard…
        var lookup: [String: (file: Int, tensor: SafetensorsTensor)] = [:]
        for (i, file) in files.enumerated() {
            for t in file.tensors {
                if let other = lookup[t.name] {
                    throw LFError("tensor is stored in two shards: \(files[other.file].path) and this one",
                                  at: SourceLocation(file: file.path, field: t.name),
                                  hint: "the checkpoint is inconsistent; export it again")
                }
                lookup[t.name] = (i, t)
            }
        }
        // …and that shard is the one the index names.
        for (i, file) in files.enumerated() {
            let shard = shardNames[i]
            for t in file.tensors {
                guard let listed = index.weightMap[t.name] else {
                    throw LFError("tensor in shard \"\(shard)\" is missing from the index's weight_map",
                                  at: SourceLocation(file: indexPath, field: t.name),
                                  hint: "the index does not match its shards; export the checkpoint again")
                }
                if listed != shard {
                    throw LFError("the index maps this tensor to \"\(listed)\", but it is stored in \"\(shard)\"",
                                  at: SourceLocation(file: indexPath, field: t.name),
                                  hint: "the index does not match its shards; export the checkpoint again")
                }
            }
        }
        for (name, shard) in index.weightMap.sorted(by: { $0.key < $1.key }) where lookup[name] == nil {
            throw LFError("the index maps this tensor to \"\(shard)\", but that shard does not hold it",
                          at: SourceLocation(file: indexPath, field: name),
                          hint: "the shard is from another version of the checkpoint, or the index is wrong")
        }
        self.lookup = lookup
        names = lookup.keys.sorted()
    }

    /// The file holding `name` and its tensor entry.
    public func tensor(_ name: String) -> (SafetensorsFile, SafetensorsTensor)? {
        lookup[name].map { (files[$0.file], $0.tensor) }
    }

    /// The tensor's values as float32 (see `SafetensorsFile.floats`).
    public func floats(_ name: String) throws -> [Float] {
        guard let (file, _) = tensor(name) else {
            throw LFError("no tensor named \"\(name)\" in the model", at: SourceLocation(file: sourcePath, field: name),
                          hint: "the checkpoint holds \(names.count) tensors")
        }
        return try file.floats(name)
    }

    /// A shard must be a plain relative path inside the model directory: an index is data, and must not
    /// make lf open `../../etc/x` or `/dev/zero`. (Symbolic links are not resolved: the Hugging Face
    /// cache links every file to a blob outside the snapshot folder, and that is fine.)
    private static func checkShardName(_ shard: String, indexPath: String) throws {
        let components = shard.split(separator: "/", omittingEmptySubsequences: false)
        if shard.isEmpty || shard.hasPrefix("/") || components.contains(where: { $0 == ".." || $0.isEmpty })
            || shard.contains("\0") {
            throw LFError("shard name \"\(shard)\" points outside the model directory",
                          at: SourceLocation(file: indexPath, field: "weight_map"),
                          hint: "weight_map values must be file names inside the model directory, such as model-00001-of-00002.safetensors")
        }
    }
}

/// `model.safetensors.index.json`: `{"metadata": {"total_size": N, …}, "weight_map": {name: shard}}`.
struct ShardIndex: Decodable {
    var totalSize: Int?
    var weightMap: [String: String]

    enum CodingKeys: String, CodingKey {
        case metadata
        case weightMap = "weight_map"
    }

    struct Metadata: Decodable {
        var totalSize: Double?
        enum CodingKeys: String, CodingKey { case totalSize = "total_size" }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // total_size is an integer, but some exporters write it as a float (1.2e10) or a string:
        // it is informational, so an odd spelling is ignored rather than fatal.
        let metadata = try? c.decodeIfPresent(Metadata.self, forKey: .metadata)
        totalSize = metadata?.totalSize.flatMap { Int(exactly: $0.rounded()) }
        weightMap = try c.decode([String: String].self, forKey: .weightMap)
    }

    static func load(path: String) throws -> ShardIndex {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LFError("cannot read the shard index: \(error.localizedDescription)", at: SourceLocation(file: path))
        }
        do {
            return try JSONDecoder().decode(ShardIndex.self, from: data)
        } catch let error as DecodingError {
            throw JSONDecodingFailure.lfError(error, path: path,
                                              hint: "a shard index is {\"metadata\": {...}, \"weight_map\": {\"tensor name\": \"shard file\"}}")
        }
    }
}
