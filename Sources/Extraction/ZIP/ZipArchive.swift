import CLibZip
import Foundation

/// A ZIP container (DOCX, EPUB) read through libzip, with bounded inflation.
///
/// Every byte inflated from the archive counts against `maxInflatedBytes`: an entry whose declared
/// size does not fit in what is left is refused before it is read, and an entry that inflates to
/// more than it declared is cut off as soon as the budget runs out, so a ZIP bomb costs at most the
/// budget in time and one read buffer in memory. libzip checks each entry's CRC-32 at its end.
final class ZipArchive {
    private let archive: OpaquePointer
    private let kind: String
    let maxInflatedBytes: Int
    private(set) var inflated = 0

    /// Opens `path`, or `data` when given (stdin). `kind` ("DOCX", "EPUB") names the container in errors.
    init(path: String, data: [UInt8]?, kind: String, maxInflatedBytes: Int, maxEntries: Int) throws {
        self.kind = kind
        self.maxInflatedBytes = maxInflatedBytes
        var opened: OpaquePointer?
        var message = ""
        if let data {
            var error = zip_error_t()
            zip_error_init(&error)
            defer { zip_error_fini(&error) }
            // libzip frees the copy (freep = 1) when the archive is closed.
            let copy = malloc(max(data.count, 1))
            if let copy { data.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: data.count) } } }
            if let copy, let source = zip_source_buffer_create(copy, zip_uint64_t(data.count), 1, &error) {
                opened = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error)
                if opened == nil { zip_source_free(source) }
            } else {
                free(copy)
            }
            if opened == nil { message = String(cString: zip_error_strerror(&error)) }
        } else {
            var code: Int32 = 0
            opened = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code)
            if opened == nil {
                var error = zip_error_t()
                zip_error_init_with_code(&error, code)
                message = String(cString: zip_error_strerror(&error))
                zip_error_fini(&error)
            }
        }
        guard let opened else {
            throw ExtractionError(.damaged, "corrupt \(kind): not a valid ZIP container (\(message.lowercased()))",
                                  hint: "the file is truncated or damaged; fetch or save it again")
        }
        archive = opened
        let count = zip_get_num_entries(archive, 0)
        if count > Int64(maxEntries) {
            zip_discard(archive)
            throw ExtractionError(.tooLarge, "\(kind) container holds \(count) entries, more than the limit of \(maxEntries)",
                                  hint: "a document this large is unusual; it may be a ZIP bomb")
        }
    }

    deinit { zip_discard(archive) }

    /// The names of all entries, in the archive's order.
    var names: [String] {
        let count = zip_get_num_entries(archive, 0)
        guard count > 0 else { return [] }
        return (0..<count).compactMap { i in zip_get_name(archive, zip_uint64_t(i), 0).map { String(cString: $0) } }
    }

    func contains(_ name: String) -> Bool { zip_name_locate(archive, name, 0) >= 0 }

    /// The bytes of entry `name`, or nil when there is none. Throws when the entry is corrupt or the
    /// inflation budget runs out.
    func read(_ name: String) throws -> [UInt8]? {
        let index = zip_name_locate(archive, name, 0)
        guard index >= 0 else { return nil }
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        guard zip_stat_index(archive, zip_uint64_t(index), 0, &stat) == 0 else {
            throw ExtractionError(.damaged, "corrupt \(kind): cannot read the entry \(name)")
        }
        let remaining = maxInflatedBytes - inflated
        if stat.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0, stat.size > zip_uint64_t(max(remaining, 0)) {
            throw bombError(name, declared: stat.size)
        }
        guard let file = zip_fopen_index(archive, zip_uint64_t(index), 0) else {
            let detail = String(cString: zip_strerror(archive))
            throw ExtractionError(.damaged, "corrupt \(kind): cannot open the entry \(name) (\(detail.lowercased()))")
        }
        defer { zip_fclose(file) }
        var out: [UInt8] = []
        if stat.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0 { out.reserveCapacity(Int(min(stat.size, 1 << 26))) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { zip_fread(file, $0.baseAddress, zip_uint64_t($0.count)) }
            if n < 0 {
                let detail = String(cString: zip_file_strerror(file))
                throw ExtractionError(.damaged, "corrupt \(kind): the entry \(name) cannot be inflated (\(detail.lowercased()))",
                                      hint: "the file is truncated or damaged; fetch or save it again")
            }
            if n == 0 { break }
            inflated += Int(n)
            if inflated > maxInflatedBytes { throw bombError(name, declared: nil) }
            out.append(contentsOf: buffer[0..<Int(n)])
        }
        return out
    }

    private func bombError(_ name: String, declared: zip_uint64_t?) -> ExtractionError {
        let what = declared.map { "declares \($0) bytes" } ?? "inflates past the limit"
        return ExtractionError(.tooLarge,
                               "\(kind) entry \(name) \(what): more than the \(maxInflatedBytes)-byte inflation limit for one container (a ZIP bomb?)",
                               hint: "if the document is genuine, raise the limit with --max-unzipped-bytes")
    }
}
