/// The version every tool prints with `--version`.
public enum LFVersion {
    public static let string = "0.1.0"
}
