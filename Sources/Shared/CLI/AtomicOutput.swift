import Foundation

/// A file written under a temporary name in its final directory and renamed into place on
/// `commit()`, so that readers (and `make`) see either the old file or the whole new one.
/// If the object is dropped without `commit()`, or the process is interrupted, the temporary is removed.
public final class AtomicFile {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferCapacity = 1 << 20
    private var token: Int
    private var finished = false

    public init(path: String) throws {
        self.path = path
        self.temporaryPath = Self.temporarySibling(of: path, suffix: "tmp")
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw LFError.io("create a temporary file next to the output", path: temporaryPath,
                             hint: "check that the directory of \(path) exists and is writable")
        }
        token = Interrupts.registerTemporary(temporaryPath)
        buffer.reserveCapacity(bufferCapacity)
    }

    deinit {
        if !finished { abort() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferCapacity {
            try flushBuffer()
            if bytes.count >= bufferCapacity {
                try writeAll(bytes)
                return
            }
        }
        buffer.append(contentsOf: bytes)
    }

    public func write<D: DataProtocol>(_ data: D) throws {
        for region in data.regions {
            try region.withUnsafeBytes { try write($0) }
        }
    }

    public func write(_ string: String) throws {
        var string = string
        try string.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Flushes, fsyncs and renames the temporary file to its final name.
    public func commit() throws {
        precondition(!finished, "AtomicFile committed twice")
        try flushBuffer()
        if fsync(fd) != 0 { throw LFError.io("write (fsync)", path: temporaryPath) }
        close(fd)
        fd = -1
        if rename(temporaryPath, path) != 0 {
            let code = errno
            unlink(temporaryPath)
            finished = true
            Interrupts.unregisterTemporary(token)
            throw LFError.io("move the finished file into place", path: path, errno: code)
        }
        finished = true
        Interrupts.unregisterTemporary(token)
    }

    /// Removes the temporary file; the final path is untouched.
    public func abort() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        Interrupts.unregisterTemporary(token)
    }

    private func flushBuffer() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw LFError.io("write", path: temporaryPath, hint: "is the disk full?")
            }
            offset += n
        }
    }

    /// Writes `data` to `path` atomically in one call.
    public static func write<D: DataProtocol>(_ data: D, to path: String) throws {
        let file = try AtomicFile(path: path)
        try file.write(data)
        try file.commit()
    }

    /// `dir/.name.tmp-<pid>-<random>`: hidden, in the same directory (so `rename` is atomic), unique.
    static func temporarySibling(of path: String, suffix: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let unique = "\(getpid())-\(UInt32.random(in: 0 ... .max))"
        return (dir as NSString).appendingPathComponent(".\(name).\(suffix)-\(unique)")
    }
}

/// A directory built under a temporary name beside its final path and renamed into place on
/// `commit()`. An existing directory at the final path is replaced only if everything in it is
/// something the new directory also holds (a previous run of the same command); anything else is
/// refused rather than deleted.
public final class AtomicDirectory {
    public let path: String
    public let temporaryPath: String
    private var token: Int
    private var finished = false

    public init(path: String) throws {
        self.path = path
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) || !isDir.boolValue {
            throw LFError("the parent directory does not exist", at: SourceLocation(file: parent),
                          hint: "create it first (mkdir -p \(parent))")
        }
        temporaryPath = AtomicFile.temporarySibling(of: path, suffix: "tmp")
        if mkdir(temporaryPath, 0o755) != 0 {
            throw LFError.io("create a temporary directory next to the output", path: temporaryPath)
        }
        token = Interrupts.registerTemporary(temporaryPath)
    }

    deinit {
        if !finished { abort() }
    }

    /// The path of `name` inside the directory being built.
    public func file(_ name: String) -> String {
        (temporaryPath as NSString).appendingPathComponent(name)
    }

    /// Checks that the output may be written before any expensive work: the final path must be
    /// absent, an empty directory, or a directory holding only files named in `expected`.
    public static func checkReplaceable(_ path: String, expected: Set<String>) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw LFError("the output path exists and is not a directory", at: SourceLocation(file: path),
                          hint: "choose another output directory", status: .usage)
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let foreign = entries.filter { !expected.contains($0) }.sorted()
        if !foreign.isEmpty {
            let shown = foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", …" : "")
            throw LFError("the output directory exists and holds files this command does not write (\(shown))",
                          at: SourceLocation(file: path),
                          hint: "choose a new directory with -o, or remove this one first", status: .usage)
        }
    }

    /// Moves the finished directory into place, replacing a previous output (see `checkReplaceable`).
    public func commit() throws {
        precondition(!finished, "AtomicDirectory committed twice")
        let fm = FileManager.default
        let written = Set((try? fm.contentsOfDirectory(atPath: temporaryPath)) ?? [])
        try Self.checkReplaceable(path, expected: written)
        var old: String?
        if fm.fileExists(atPath: path) {
            let aside = AtomicFile.temporarySibling(of: path, suffix: "old")
            if rename(path, aside) != 0 { throw LFError.io("move the previous output aside", path: path) }
            old = aside
        }
        if rename(temporaryPath, path) != 0 {
            let code = errno
            if let old { rename(old, path) }
            throw LFError.io("move the finished directory into place", path: path, errno: code)
        }
        finished = true
        Interrupts.unregisterTemporary(token)
        if let old { try? fm.removeItem(atPath: old) }
    }

    public func abort() {
        guard !finished else { return }
        finished = true
        try? FileManager.default.removeItem(atPath: temporaryPath)
        Interrupts.unregisterTemporary(token)
    }
}
