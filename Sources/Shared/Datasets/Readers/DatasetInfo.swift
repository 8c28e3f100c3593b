import Foundation

/// One dataset named in LLaMA-Factory's `dataset_info.json`, resolved to local files and a schema.
public struct DatasetInfoEntry: Sendable {
    public var name: String
    /// The data files (a `file_name` folder gives all its files, sorted by name).
    public var files: [String]
    public var format: InputFormat
    public var spec: SchemaSpec
    /// `num_samples`: the dataset is cut or repeated to this many records.
    public var numSamples: Int?
}

/// Reads LLaMA-Factory's `dataset_info.json` with its semantics (data/README.md and
/// `DatasetAttr.join` in LLaMA-Factory's parser.py):
///
/// - `formatting`: alpaca (default), sharegpt or openai;
/// - `columns`: when present, every column it does not name is unused (LLaMA-Factory sets them to
///   None); when absent, alpaca reads instruction/input/output and sharegpt reads conversations;
///   an alpaca entry without a response column is pre-training text;
/// - `tags`: likewise, when present the tags it does not name are unused; the defaults are
///   from/value/human/gpt/observation/function_call/system;
/// - `num_samples`: cut to that many records, or repeated past the end (LLaMA-Factory draws a random
///   subset without a seed; lf takes the first records, so runs are reproducible).
///
/// Refused, with a reason: hub-only entries (`hf_hub_url`, `ms_hub_url`, `om_hub_url`,
/// `script_url`, `cloud_file_name` without a `file_name`: lf reads local files), preference and
/// KTO datasets (`ranking`, `chosen`/`rejected`, `kto_tag`: lf trains supervised fine-tuning),
/// multimodal columns (`images`, `videos`, `audios`), and parquet/arrow files.
public enum DatasetInfo {
    /// `path` is the `dataset_info.json` file or the folder holding it.
    public static func load(path: String, names: [String]) throws -> [DatasetInfoEntry] {
        var file = path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            file = (path as NSString).appendingPathComponent("dataset_info.json")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw LFError.io("read", path: file, errno: FileManager.default.fileExists(atPath: file) ? EACCES : ENOENT,
                             hint: "--dataset-info takes LLaMA-Factory's dataset_info.json or its folder")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(data)
        } catch let error as JSONParseError {
            throw LFError.input(error.description, file: file, line: lineOf(byte: error.column - 1, in: data))
        }
        guard case .object(let entries) = root else {
            throw LFError.input("expected a JSON object mapping dataset names to descriptions", file: file)
        }
        let directory = (file as NSString).deletingLastPathComponent
        return try names.map { name in
            guard let description = entries.last(where: { $0.0 == name })?.1 else {
                let known = entries.map(\.0).sorted()
                let shown = known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", …" : "")
                throw LFError.input("no dataset named \"\(name)\"", file: file, hint: "the file describes: \(shown)")
            }
            return try entry(name: name, description, directory: directory, file: file)
        }
    }

    static func entry(name: String, _ d: JSONValue, directory: String, file: String) throws -> DatasetInfoEntry {
        func fail(_ key: String?, _ message: String, hint: String? = nil) -> LFError {
            LFError.input(message, file: file, field: key.map { "\(name).\($0)" } ?? name, hint: hint)
        }
        guard case .object = d else { throw fail(nil, "the description must be a JSON object") }
        func string(_ key: String, in object: JSONValue? = nil) throws -> String? {
            guard let v = (object ?? d)[key], v != .null else { return nil }
            guard case .string(let s) = v else { throw fail(key, "\"\(key)\" must be a string") }
            return s
        }
        guard let fileName = try string("file_name") else {
            let remote = ["hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name"].first { d[$0] != nil }
            if let remote {
                throw fail(remote, "the dataset lives on a hub or in the cloud (\(remote)); lf-format reads local files",
                           hint: "download it (for example as JSON Lines) and add \"file_name\" to its description")
            }
            throw fail("file_name", "the description has no \"file_name\"")
        }
        if case .bool(true)? = d["ranking"] {
            throw fail("ranking", "preference (ranking) datasets are not supported: lf trains supervised fine-tuning",
                       hint: "use the chosen answers as an SFT dataset, or train preferences with LLaMA-Factory")
        }
        let formatting = try string("formatting") ?? "alpaca"
        guard let schema = Schema(rawValue: formatting), schema != .text else {
            throw fail("formatting", "unknown formatting \"\(formatting)\" (expected alpaca, sharegpt or openai)")
        }
        // Columns: LLaMA-Factory's defaults unless a "columns" object is given, which then names all.
        var columns = ColumnMap(prompt: "instruction", query: "input", response: "output", messages: "conversations")
        if let c = d["columns"], c != .null {
            guard case .object(let pairs) = c else { throw fail("columns", "\"columns\" must be an object") }
            columns = ColumnMap()
            for (key, value) in pairs {
                guard case .string(let column) = value else { throw fail("columns.\(key)", "a column name must be a string") }
                switch key {
                case "images", "videos", "audios":
                    throw fail("columns.\(key)", "multimodal datasets (\(key)) are not supported: lf trains text models")
                case "chosen", "rejected", "kto_tag":
                    throw fail("columns.\(key)", "preference and KTO datasets (\(key)) are not supported: lf trains supervised fine-tuning")
                case let k where ColumnMap.keys.contains(k) && k != "text":
                    columns[k] = column
                default:
                    throw fail("columns.\(key)", "unknown column key \"\(key)\"",
                               hint: "LLaMA-Factory's keys are prompt, query, response, history, messages, system, tools")
                }
            }
        }
        var tags = RoleTags(roleKey: "from", contentKey: "value", user: ["human"], assistant: ["gpt"], system: ["system"],
                            functionCall: ["function_call"], observation: ["observation"])
        if let t = d["tags"], t != .null {
            guard case .object = t else { throw fail("tags", "\"tags\" must be an object") }
            func tag(_ key: String) throws -> Set<String> { try string(key, in: t).map { [$0] } ?? [] }
            tags = RoleTags(roleKey: try string("role_tag", in: t) ?? "from", contentKey: try string("content_tag", in: t) ?? "value",
                            user: try tag("user_tag"), assistant: try tag("assistant_tag"), system: try tag("system_tag"),
                            functionCall: try tag("function_tag"), observation: try tag("observation_tag"))
            // LLaMA-Factory leaves role_tag/content_tag None when omitted, which cannot read anything;
            // lf keeps the defaults instead.
        }
        var numSamples: Int?
        if let n = d["num_samples"], n != .null {
            guard case .int(let value) = n, value > 0 else { throw fail("num_samples", "\"num_samples\" must be a positive integer") }
            numSamples = value
        }
        // Files.
        let dataPath = (directory as NSString).appendingPathComponent(fileName)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataPath, isDirectory: &isDir) else {
            throw fail("file_name", "the data file \(dataPath) does not exist")
        }
        var files = [dataPath]
        if isDir.boolValue {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dataPath)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            files = names.map { (dataPath as NSString).appendingPathComponent($0) }
            if files.isEmpty { throw fail("file_name", "the folder \(dataPath) holds no files") }
        }
        let formats = Set(files.map { ($0 as NSString).pathExtension.lowercased() })
        guard formats.count == 1, let ext = formats.first else {
            throw fail("file_name", "the files in \(dataPath) must all have the same type (found \(formats.sorted().joined(separator: ", ")))")
        }
        let format = InputFormat.fromExtension("x.\(ext)")
        if ext == "parquet" || ext == "arrow" {
            throw fail("file_name", "\(ext) files are not supported", hint: "convert the data to JSON Lines first")
        }
        guard format != .auto else {
            throw fail("file_name", "unknown file type .\(ext) (expected json, jsonl, csv, tsv or txt)")
        }
        // A text file's lines are the `text` column, as the Hugging Face text loader names it.
        return DatasetInfoEntry(name: name, files: files, format: format,
                                spec: SchemaSpec(schema: schema, columns: columns, tags: tags), numSamples: numSamples)
    }

    static func lineOf(byte offset: Int, in data: Data) -> Int {
        var line = 1
        for (i, b) in data.enumerated() {
            if i >= offset { break }
            if b == 0x0A { line += 1 }
        }
        return line
    }
}
