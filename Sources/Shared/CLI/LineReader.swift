import Foundation

/// Reads a file or stdin (`-`) line by line in large chunks, without loading it whole.
///
/// Lines end at `\n`; a `\r` before it is dropped (CRLF files), a final line without a newline is
/// still a line, a UTF-8 byte-order mark at the start is skipped, and a line may be any length (the
/// buffer grows to hold it). Line numbers are 1-based, as editors and `sed -n` count them.
public final class LineReader {
    /// The path as given, or `<stdin>`; used in error messages.
    public let displayName: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0  // first unconsumed byte
    private var end = 0    // one past the last valid byte
    private var eof = false
    private var firstChunk = true
    public private(set) var lineNumber = 0
    /// Keep each line's `\n` (and `\r\n`) instead of dropping it (BPE training counts them as text).
    public let keepsLineEndings: Bool

    public init(path: String, chunkSize: Int = 1 << 20, keepLineEndings: Bool = false) throws {
        keepsLineEndings = keepLineEndings
        if path == "-" {
            displayName = "<stdin>"
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            displayName = path
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw LFError.io("open", path: path) }
            ownsDescriptor = true
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw LFError("is a directory, expected a file", at: SourceLocation(file: path))
            }
        }
        capacity = max(chunkSize, 64)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// Reads an already open descriptor (a pipe, a socket), named `displayName` in errors. The
    /// descriptor is not closed.
    public init(fileDescriptor: Int32, displayName: String, chunkSize: Int = 1 << 20, keepLineEndings: Bool = false) {
        keepsLineEndings = keepLineEndings
        self.displayName = displayName
        fd = fileDescriptor
        ownsDescriptor = false
        capacity = max(chunkSize, 64)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// Calls `body` with each line's bytes (without the line ending). The bytes are valid only
    /// during the call.
    public func forEachLine(_ body: (_ line: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws {
        while let line = try nextLine() {
            try body(lineNumber, line)
        }
    }

    /// The next line, valid until the following call, or nil at the end of the input.
    public func nextLine() throws -> UnsafeRawBufferPointer? {
        while true {
            if start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let lineEnd = buffer.distance(to: nl)
                let line = keepsLineEndings ? UnsafeRawBufferPointer(start: buffer + start, count: lineEnd + 1 - start)
                                            : trimmedLine(from: start, to: lineEnd)
                start = lineEnd + 1
                lineNumber += 1
                firstChunk = false  // a line ended within the first bytes: there was no BOM
                return line
            }
            if eof {
                guard start < end else { return nil }
                let line = keepsLineEndings ? UnsafeRawBufferPointer(start: buffer + start, count: end - start)
                                            : trimmedLine(from: start, to: end)
                start = end
                lineNumber += 1
                return line
            }
            try fill()
        }
    }

    private func trimmedLine(from lo: Int, to hi: Int) -> UnsafeRawBufferPointer {
        var hi = hi
        if hi > lo && buffer.load(fromByteOffset: hi - 1, as: UInt8.self) == 0x0D { hi -= 1 }
        return UnsafeRawBufferPointer(start: buffer + lo, count: hi - lo)
    }

    /// Moves the unconsumed tail to the front, grows the buffer if a single line fills it, and reads more.
    private func fill() throws {
        if start > 0 {
            if end > start { memmove(buffer, buffer + start, end - start) }
            end -= start
            start = 0
        }
        if end == capacity {
            let newCapacity = capacity * 2
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            grown.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n < 0 {
                if errno == EINTR { continue }
                throw LFError.io("read", path: displayName)
            }
            if n == 0 { eof = true }
            end += n
            break
        }
        // Skip a UTF-8 BOM once the first three bytes of the input are in (a pipe may deliver fewer).
        if firstChunk && end >= 3 {
            firstChunk = false
            let b = buffer.assumingMemoryBound(to: UInt8.self)
            if b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { start = 3 }
        } else if eof {
            firstChunk = false
        }
    }
}
