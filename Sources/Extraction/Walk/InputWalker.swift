import Foundation
import Shared

/// One document to extract: where it came from on the command line and how to name it.
public struct InputFile: Sendable, Equatable {
    /// The path as given (a file argument) or the directory argument joined with the relative path
    /// (a walked file); `-` for stdin. This is the record's `source`.
    public var path: String
    /// True when the file was named on the command line (format sniffed even without a known
    /// extension); false when a directory walk found it.
    public var explicit: Bool

    public init(path: String, explicit: Bool) {
        self.path = path
        self.explicit = explicit
    }
}

/// Turns the command line's files and directories into the ordered list of documents.
///
/// - A file argument is taken as it is, whatever include/exclude say, and `-` is stdin.
/// - A directory is walked recursively. Entries are visited in byte order of their names, so the
///   order never depends on the file system or the locale. Hidden entries (`.name`) are skipped,
///   symbolic links to files are followed, symbolic links to directories are not (no cycles).
/// - In a walk, a file is kept when it matches an `--include` glob, or, without `--include`, when
///   its extension names a format lf-extract reads; then it is dropped if it matches an
///   `--exclude` glob. An excluded directory is not entered.
public struct InputWalker {
    public var includes: [Glob]
    public var excludes: [Glob]

    public init(includes: [Glob] = [], excludes: [Glob] = []) {
        self.includes = includes
        self.excludes = excludes
    }

    public struct Problem: Error, Sendable {
        public var path: String
        public var message: String
    }

    /// The files, in order, and the arguments that could not be read (missing paths).
    public func expand(_ arguments: [String]) -> (files: [InputFile], problems: [Problem]) {
        var files: [InputFile] = []
        var problems: [Problem] = []
        for argument in arguments {
            if argument == "-" {
                files.append(InputFile(path: "-", explicit: true))
                continue
            }
            var st = stat()
            guard stat(argument, &st) == 0 else {
                problems.append(Problem(path: argument, message: "cannot open: \(String(cString: strerror(errno)))"))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                walk(root: argument, relative: "", into: &files, problems: &problems)
            } else {
                files.append(InputFile(path: argument, explicit: true))
            }
        }
        return (files, problems)
    }

    private func walk(root: String, relative: String, into files: inout [InputFile], problems: inout [Problem]) {
        let directory = relative.isEmpty ? root : Self.join(root, relative)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            problems.append(Problem(path: directory, message: "cannot read the directory: \(error.localizedDescription)"))
            return
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !name.hasPrefix(".") {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let full = Self.join(root, rel)
            var lst = stat()
            guard lstat(full, &lst) == 0 else { continue }
            var isDirectory = (lst.st_mode & S_IFMT) == S_IFDIR
            if (lst.st_mode & S_IFMT) == S_IFLNK {
                var st = stat()
                // A dangling link, or a link to a directory, is not followed.
                guard stat(full, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                isDirectory = false
            }
            if isDirectory {
                if excludes.contains(where: { $0.matches(relativePath: rel) || $0.matches(relativePath: rel + "/") }) { continue }
                walk(root: root, relative: rel, into: &files, problems: &problems)
                continue
            }
            guard (lst.st_mode & S_IFMT) == S_IFREG || (lst.st_mode & S_IFMT) == S_IFLNK else { continue }
            let included = includes.isEmpty ? DocumentFormat.fromExtension(of: name) != nil
                                            : includes.contains { $0.matches(relativePath: rel) }
            guard included, !excludes.contains(where: { $0.matches(relativePath: rel) }) else { continue }
            files.append(InputFile(path: full, explicit: false))
        }
    }

    static func join(_ root: String, _ relative: String) -> String {
        root.hasSuffix("/") ? root + relative : root + "/" + relative
    }
}

/// `--shard I/N`: a deterministic, disjoint slice of the inputs, so that N machines (a Slurm array,
/// GNU parallel, make -j) can share one job. An input belongs to shard 1 + (h mod N), where h is
/// the first 8 bytes of the sha256 of its path as given: adding or removing a file moves no other.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    /// Parses "I/N" with 1 ≤ I ≤ N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }

    public func contains(_ input: InputFile) -> Bool {
        var hasher = SHA256()
        hasher.update(input.path)
        let digest = hasher.finalize()
        let h = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(h % UInt64(count)) == index - 1
    }
}
