import Foundation

/// A read-only memory map of a whole file. Model weights stay in the page cache and are only read
/// when a tensor is used; the mapping lives as long as this object.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw LFError.io("open", path: path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw LFError.io("stat", path: path) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw LFError("is a directory, expected a file", at: SourceLocation(file: path))
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil { throw LFError.io("memory-map", path: path) }
        base = p
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// The whole file. Valid while `self` is alive.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count)
    }
}
