import Foundation

/// A file or stdin (`-`) read in large chunks, with a look at the first bytes before any are consumed.
///
/// The dataset readers need more than `LineReader` gives: the container (JSON array, JSON Lines,
/// CSV) is recognised by peeking at the first non-blank byte, which on a pipe cannot be read twice,
/// and the JSON-array and CSV readers scan bytes across chunk boundaries. A UTF-8 byte-order mark
/// at the start is skipped; line endings are left to the readers (`nextLine` drops a `\r` before `\n`).
public final class ByteInput {
    public let displayName: String
    public let path: String
    public let isStandardInput: Bool
    private let fd: Int32
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let chunkSize: Int
    /// The first unconsumed byte and one past the last valid byte.
    private(set) var start = 0
    private(set) var end = 0
    private(set) var eof = false
    private var bomChecked = false
    /// Bytes consumed before `start` (for byte offsets in messages).
    public private(set) var consumedBytes = 0
    public private(set) var lineNumber = 0

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        self.path = path
        self.chunkSize = max(chunkSize, 16)
        if path == "-" {
            displayName = "<stdin>"
            fd = STDIN_FILENO
            isStandardInput = true
        } else {
            displayName = path
            isStandardInput = false
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                throw LFError.io("open", path: path, hint: errno == ENOENT ? "check the path" : nil)
            }
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw LFError("is a directory, expected a dataset file", at: SourceLocation(file: path))
            }
        }
        capacity = self.chunkSize
        storage = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
        if !isStandardInput { close(fd) }
    }

    /// The buffered bytes from `start`.
    var available: Int { end - start }
    var pointer: UnsafeMutablePointer<UInt8> { storage + start }

    /// Reads more input, keeping the unconsumed bytes; returns false at the end of the input.
    @discardableResult
    func fill() throws -> Bool {
        if eof { return false }
        if start > 0 {
            if end > start { memmove(storage, storage + start, end - start) }
            end -= start
            start = 0
        }
        if capacity - end < chunkSize / 2 {
            let newCapacity = max(capacity * 2, end + chunkSize)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: storage, count: end)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }
        while true {
            let n = read(fd, storage + end, capacity - end)
            if n < 0 {
                if errno == EINTR { continue }
                throw LFError.io("read", path: displayName)
            }
            if n == 0 { eof = true; return false }
            end += n
            break
        }
        if !bomChecked {
            if end - start >= 3 || eof {
                bomChecked = true
                if end - start >= 3, storage[start] == 0xEF, storage[start + 1] == 0xBB, storage[start + 2] == 0xBF {
                    start += 3
                    consumedBytes += 3
                }
            } else {
                return try fill()
            }
        }
        return true
    }

    /// Makes at least `n` bytes available from `start` if the input has them.
    func ensure(_ n: Int) throws -> Bool {
        while available < n {
            if try !fill() { return available >= n }
        }
        return true
    }

    /// Marks `n` bytes as consumed.
    func consume(_ n: Int) {
        start += n
        consumedBytes += n
    }

    /// The first byte that is not JSON whitespace, without consuming anything (nil for blank input).
    public func peekFirstNonBlank() throws -> UInt8? {
        var i = 0
        while true {
            if i >= available {
                if try !fill() { return nil }
                continue
            }
            let c = pointer[i]
            if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 { return c }
            i += 1
        }
    }

    /// The next line without its ending (`\n` or `\r\n`), valid until the next call; nil at the end.
    public func nextLine() throws -> UnsafeRawBufferPointer? {
        var searched = 0
        while true {
            if available > searched, let nl = memchr(pointer + searched, 0x0A, available - searched) {
                let length = UnsafeMutableRawPointer(pointer).distance(to: nl)
                var lineLength = length
                if lineLength > 0 && pointer[lineLength - 1] == 0x0D { lineLength -= 1 }
                let line = UnsafeRawBufferPointer(start: pointer, count: lineLength)
                consume(length + 1)
                lineNumber += 1
                return line
            }
            searched = available
            if try !fill() {
                guard available > 0 else { return nil }
                var lineLength = available
                if pointer[lineLength - 1] == 0x0D { lineLength -= 1 }
                let line = UnsafeRawBufferPointer(start: pointer, count: lineLength)
                consume(available)
                lineNumber += 1
                return line
            }
        }
    }

    /// Starts over from the first byte (files only: a pipe cannot be read twice).
    public func rewind() throws {
        guard !isStandardInput else {
            throw LFError.usage("stdin cannot be read twice",
                                hint: "oversampling (interleave_over) restarts inputs: save stdin to a file first")
        }
        if lseek(fd, 0, SEEK_SET) < 0 { throw LFError.io("seek", path: displayName) }
        start = 0; end = 0; eof = false; bomChecked = false; consumedBytes = 0; lineNumber = 0
    }
}
