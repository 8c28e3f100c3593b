import Foundation

/// The default model (SmolLM2-135M-Instruct) that scripts/fetch-model.sh puts under models/.
///
/// Tests that need it are skipped when it is absent, unless `LF_REQUIRE_MODEL=1` (set by
/// scripts/test.sh, and so in CI), in which case its absence is a failure.
public enum DefaultModel {
    public static var directory: String { Fixtures.packageRoot.appendingPathComponent("models/smollm2-135m-instruct").path }
    public static var gguf: String { Fixtures.packageRoot.appendingPathComponent("models/.cache/SmolLM2-135M-Instruct.Q4_1.gguf").path }

    public static var isPresent: Bool {
        FileManager.default.fileExists(atPath: directory + "/model.safetensors") && FileManager.default.fileExists(atPath: gguf)
    }

    public static var isRequired: Bool { ProcessInfo.processInfo.environment["LF_REQUIRE_MODEL"] == "1" }

    /// Run the tests that need the model when it is present or required (then they fail if absent).
    public static var shouldTest: Bool { isPresent || isRequired }
}
