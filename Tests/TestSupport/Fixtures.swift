import Foundation

/// Paths to the shared fixtures (`../shared` beside the checkout, or `$LF_SHARED`) and to the
/// package root, for tests.
public enum Fixtures {
    /// The package root (the directory holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// `../shared` (or `$LF_SHARED`).
    public static let shared: URL = {
        if let env = ProcessInfo.processInfo.environment["LF_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// `../shared/fixtures/<relative>`.
    public static func path(_ relative: String) -> String {
        shared.appendingPathComponent("fixtures").appendingPathComponent(relative).path
    }

    /// A fresh temporary directory, removed by the caller (or left in /tmp for inspection).
    public static func temporaryDirectory(_ name: String = "lf-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
